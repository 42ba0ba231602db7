"""Factories of the roadmaps app. The other apps' tests use these products, initiatives and
releases too (their factories modules re-export them, with their own defaults where they differ)."""

from datetime import date

import factory

from roadmaps.models import Dependency, Initiative, Objective, Product, Release
from tests.factories import WorkspaceFactory


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Product {n}")


class InitiativeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Initiative

    product = factory.SubFactory(ProductFactory)
    title = factory.Sequence(lambda n: f"Initiative {n}")


class ObjectiveFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Objective

    product = factory.SubFactory(ProductFactory)
    title = factory.Sequence(lambda n: f"Objective {n}")
    start_date = date(2026, 10, 1)
    end_date = date(2026, 12, 31)


class ReleaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Release

    product = factory.SubFactory(ProductFactory)
    name = factory.Sequence(lambda n: f"Release {n}")
    release_date = date(2026, 12, 1)


class DependencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dependency
