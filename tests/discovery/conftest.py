import pytest

from tests.roadmaps.factories import ProductFactory


@pytest.fixture
def product(workspace):
    return ProductFactory(workspace=workspace, name="Acme Analytics")


@pytest.fixture
def other_product(other_workspace):
    return ProductFactory(workspace=other_workspace, name="Globex App")


@pytest.fixture
def segment(product):
    from roadmaps.models import Segment

    return Segment.objects.create(product=product, name="Enterprise")
