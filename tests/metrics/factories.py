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
