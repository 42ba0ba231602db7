"""Beat tasks: roll up yesterday and today for every product; measure due outcome checkpoints."""

from datetime import UTC, date, datetime

import pytest
import time_machine

from adoption import tasks
from adoption.models import FeatureDaily, TouchedDay, UsageEvent

from .factories import ProductFactory

pytestmark = pytest.mark.django_db


@time_machine.travel("2026-11-25T16:00:00Z", tick=False)
def test_beat_rolls_up_yesterday_and_today_of_every_product_in_its_time_zone(product, workspace, other_product,
                                                                            monkeypatch):
    workspace.time_zone = "Asia/Tokyo"  # 01:00 on 26 Nov there
    workspace.save()
    ProductFactory(workspace=workspace, deleted_at=datetime(2026, 11, 1, tzinfo=UTC))
    TouchedDay.objects.create(product=other_product, day=date(2026, 10, 1), pending=True,
                              touched_at=datetime(2026, 11, 25, 15, 50, tzinfo=UTC))
    sent = []
    monkeypatch.setattr(tasks.rollup_day, "delay", lambda *args: sent.append(args))
    assert tasks.rollup_recent() == 5
    assert sorted(sent) == sorted([
        (product.id, "2026-11-25"), (product.id, "2026-11-26"),
        (other_product.id, "2026-11-24"), (other_product.id, "2026-11-25"), (other_product.id, "2026-10-01"),
    ])


@time_machine.travel("2026-11-25T16:00:00Z", tick=False)
def test_rollup_task_is_idempotent(product):
    UsageEvent.objects.create(product=product, event_id="1", feature_key="search", actor="a",
                              occurred_at=datetime(2026, 11, 25, 9, tzinfo=UTC))
    tasks.rollup_day(product.id, "2026-11-25")
    first = list(FeatureDaily.objects.values_list("day", "users", "events", "users_7d"))
    tasks.rollup_day(product.id, "2026-11-25")
    assert list(FeatureDaily.objects.values_list("day", "users", "events", "users_7d")) == first == [
        (date(2026, 11, 25), 1, 1, 1)]


def test_rollup_task_of_a_deleted_product_does_nothing(db):
    assert tasks.rollup_day(999999, "2026-11-25") is None


def test_outcome_task_of_an_unknown_release_does_nothing(db):
    assert tasks.outcome_reviews_open(999999) == 0
    assert tasks.outcome_reviews_measure_due() == 0
