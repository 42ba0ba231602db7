"""Factories of the discovery tests."""

import factory

from discovery.models import Company, Insight, Person
from tests.roadmaps.factories import ProductFactory


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    product = factory.SubFactory(ProductFactory)
    name = factory.Sequence(lambda n: f"Company {n}")
    domain = factory.Sequence(lambda n: f"company{n}.example")
    external_id = factory.Sequence(lambda n: f"crm-{n}")


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    product = factory.SubFactory(ProductFactory)
    email = factory.Sequence(lambda n: f"person{n}@example.org")
    name = factory.Sequence(lambda n: f"Person {n}")


class InsightFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Insight

    product = factory.SubFactory(ProductFactory)
    text = factory.Sequence(lambda n: f"Customer said thing number {n}.")
