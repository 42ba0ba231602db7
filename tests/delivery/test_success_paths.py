"""The successful effect of delivery writes not covered elsewhere (tests/core/test_service_success.py
keeps the list)."""

import pytest

from delivery import services
from delivery.models import Iteration
from tests.effects import verbs

from .factories import IterationFactory

pytestmark = pytest.mark.django_db


def test_iteration_update_and_delete_are_recorded(product, editor):
    iteration = IterationFactory(product=product)
    services.iteration_update(actor=editor, iteration=iteration, data={"goal": "Ship checkout", "capacity_points": 12})
    iteration = Iteration.objects.get(id=iteration.id)
    assert (iteration.goal, iteration.capacity_points) == ("Ship checkout", 12)
    services.iteration_delete(actor=editor, iteration=iteration)
    assert not Iteration.objects.filter(id=iteration.id).exists()
    assert verbs(product.workspace)[-2:] == ["updated iteration", "deleted iteration"]
