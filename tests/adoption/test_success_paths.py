"""The successful effect of adoption writes: features and the webhooks they emit, their
deletion (tests/core/test_service_success.py keeps the list)."""

import pytest

from adoption import services
from adoption.models import Feature
from tests.effects import emitted, subscribe_all, verbs

pytestmark = pytest.mark.django_db


def test_feature_create_and_update_emit_their_events(product, admin, editor):
    subscribe_all(workspace=product.workspace, admin=admin)
    feature = services.feature_create(user=editor, product=product, key="search", name="Search")
    services.feature_update(user=editor, feature=feature, data={"name": "Site search"})
    assert Feature.objects.get(id=feature.id).name == "Site search"
    events = [event for event, _ in emitted(product.workspace)]
    assert events == ["adoption.feature.created", "adoption.feature.updated"]


def test_feature_delete_removes_it_and_records_its_key(product, editor):
    feature = services.feature_create(user=editor, product=product, key="export", name="Export")
    services.feature_delete(user=editor, feature=feature)
    assert not Feature.objects.filter(id=feature.id).exists()
    assert verbs(product.workspace)[-1] == "deleted feature"
