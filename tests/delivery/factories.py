"""Factories of the tables delivery reads (products, epics, stories, releases) and its own.
Products and releases are the roadmaps tests' factories."""

from datetime import date

import factory

from backlog.models import Epic, Story
from delivery.models import Iteration
from tests.roadmaps import factories as roadmaps
from tests.roadmaps.factories import ProductFactory


class EpicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Epic

    product = factory.SubFactory(ProductFactory)
    title = factory.Sequence(lambda n: f"Epic {n}")


class StoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Story

    product = factory.SubFactory(ProductFactory)
    title = factory.Sequence(lambda n: f"Story {n}")
    status = "ready"
    points = 3


class ReleaseFactory(roadmaps.ReleaseFactory):
    release_date = date(2027, 3, 1)


class IterationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Iteration

    product = factory.SubFactory(ProductFactory)
    name = factory.Sequence(lambda n: f"Sprint {n}")
    start_date = date(2026, 11, 2)
    end_date = date(2026, 11, 13)
    capacity_points = 10


def staged_import(*, actor, product, filename: str, data: bytes):
    """An upload as the worker leaves it: stored by the request, then parsed by the task's service
    (run here directly; a test transaction never commits, so the on-commit task would not run)."""
    from delivery import services

    job = services.import_upload(actor=actor, product=product, filename=filename, data=data)
    services.import_parse(import_job_id=job.id)
    job.refresh_from_db()
    return job
