"""Events ingested through the API are rolled up by a real Celery worker through Redis."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from adoption.models import FeatureDaily, ProductDaily, TouchedDay, UsageEvent
from tests.adoption.factories import ProductFactory, make_ingestion_key
from tests.factories import WorkspaceFactory

from .conftest import wait_until

pytestmark = pytest.mark.integration


def test_ingested_events_are_rolled_up_by_a_real_worker(celery_worker_process):
    product = ProductFactory(workspace=WorkspaceFactory(time_zone="Europe/Berlin"))
    raw = make_ingestion_key(product)
    at = (timezone.now() - timedelta(hours=1)).isoformat()
    events = [{"id": f"e{i}", "feature": ("search", "export")[i % 2], "actor": f"u{i % 4}", "occurred_at": at}
              for i in range(20)]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = client.post("/api/v1/events/bulk/", {"events": events}, format="json")
    assert response.status_code == 202
    assert len(response.json()["rollups_queued"]) == 1

    rows = wait_until(lambda: list(FeatureDaily.objects.filter(product=product).order_by("feature__key")
                                   .values_list("feature__key", "users", "events")), timeout=60,
                      message=lambda: "rollup rows; worker log:\n" + celery_worker_process.output()[-3000:])
    assert rows == [("export", 2, 10), ("search", 2, 10)]
    assert ProductDaily.objects.get(product=product).active_users == 4
    assert not TouchedDay.objects.get(product=product).pending
    assert "adoption.tasks.rollup_day" in celery_worker_process.output()

    # The same batch again: stored once; its rollup recomputes the same rows.
    assert client.post("/api/v1/events/bulk/", {"events": events}, format="json").status_code == 202
    assert UsageEvent.objects.filter(product=product).count() == 20
    wait_until(lambda: not TouchedDay.objects.get(product=product).pending, timeout=60, message="second rollup")
    assert list(FeatureDaily.objects.filter(product=product).order_by("feature__key")
                .values_list("feature__key", "users", "events")) == rows
