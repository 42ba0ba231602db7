import factory

from metrics.models import Kpi, Measurement
from roadmaps.models import Product


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Product {n}")


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
