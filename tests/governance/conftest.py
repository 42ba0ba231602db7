from datetime import UTC, datetime

import pytest
import time_machine

from .factories import ProductFactory


@pytest.fixture
def product(workspace):
    return ProductFactory(workspace=workspace, name="Acme Analytics")


@pytest.fixture
def foreign_product(other_workspace):
    return ProductFactory(workspace=other_workspace, name="Globex Radar")


@pytest.fixture(autouse=True)
def _clock():
    """One frozen instant for every governance test (review dates are compared with "today")."""
    with time_machine.travel(datetime(2026, 6, 10, 9, 0, tzinfo=UTC), tick=False):
        yield
