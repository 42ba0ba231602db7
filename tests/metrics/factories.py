"""Factories of the metrics tests; products are the roadmaps tests'."""

import factory

from metrics.models import Kpi, Measurement
from tests.roadmaps.factories import ProductFactory


class KpiFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Kpi

    product = factory.SubFactory(ProductFactory)
    name = factory.Sequence(lambda n: f"KPI {n}")
    unit = "count"
    direction = "higher"


class MeasurementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Measurement

    kpi = factory.SubFactory(KpiFactory)
    value = 1


def staged_upload(*, user, kpi, content: bytes, filename: str = ""):
    """A measurements CSV as the worker leaves it: stored by the request, then parsed by the task's
    service (run here directly; a test transaction never commits, so the on-commit task would not run)."""
    from metrics import services

    upload = services.upload_stage(user=user, kpi=kpi, content=content, filename=filename)
    services.upload_parse(upload_id=upload.id)
    upload.refresh_from_db()
    return upload
