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


def test_the_workers_incremental_rollups_match_a_full_recompute(celery_worker_process):
    """Batches of today, yesterday and a late day ten days back, each rolled up by the worker
    as the ingestion queues it (incremental: decision 1915), then new events of known pairs: every
    stored and shown figure equals a full recompute of the same days."""
    import random

    from adoption import rollups
    from adoption.models import ActorLastDay, WindowDirtyDay
    from pmhub.clock import today_in
    from tests.adoption.test_incremental_rollups import _figures

    tz = "Europe/Berlin"
    product = ProductFactory(workspace=WorkspaceFactory(time_zone=tz))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_ingestion_key(product)}")
    rng = random.Random(5)
    now = timezone.now()

    def batch(tag: str, back: timedelta, n: int, actors: int = 30) -> list[dict]:
        return [{"id": f"{tag}-{i}", "feature": rng.choice(["search", "export", "share"]),
                 "actor": f"u{rng.randrange(actors)}",
                 "occurred_at": (now - back - timedelta(minutes=rng.randrange(60))).isoformat()} for i in range(n)]

    def settled():
        return (not TouchedDay.objects.filter(product=product, pending=True).exists()
                and not WindowDirtyDay.objects.filter(product=product).exists()
                and FeatureDaily.objects.filter(product=product).exists())

    for tag, back, n in (("today", timedelta(hours=1), 60), ("yesterday", timedelta(days=1), 40),
                         ("today-2", timedelta(minutes=90), 30), ("late", timedelta(days=10), 25),
                         ("known", timedelta(hours=2), 20)):
        assert client.post("/api/v1/events/bulk/", {"events": batch(tag, back, n, 5 if tag == "known" else 30)},
                           format="json").status_code == 202
        wait_until(settled, timeout=60, message=lambda: "rollups; worker log:\n" + celery_worker_process.output()[-3000:])
    today = today_in(tz)
    incremental = _figures(product, today)
    assert ActorLastDay.objects.filter(product=product).exists()  # the worker took the incremental path
    first = (now - timedelta(days=11)).date()
    rollups.rollup_range(product_id=product.id, first=first, last=today, tz_name=tz, full=True)
    rollups.windows_refresh(product_id=product.id, end=today, full=True)
    full = _figures(product, today)
    assert incremental["actor_day"] and incremental["windows"]
    for name in full:
        assert incremental[name] == full[name], name
