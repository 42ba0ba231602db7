"""FeatureFirstUse, the first day each actor used each feature (retention cohorts read it): kept by
the rollups, equal to MIN(day) over ActorDay after any order of rollups, late events and a
rebuild in another time zone; the retention cohorts read from it."""

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db.models import Min

from adoption.models import ActorDay, FeatureFirstUse, UsageEvent
from adoption.rollups import rollup_day, rollup_range

pytestmark = pytest.mark.django_db

START = date(2026, 10, 1)


def _first_uses(product) -> dict:
    """The lowest row per pair (a pair may have several: no unique key, see the model)."""
    return {(r["feature_key"], r["actor"]): r["first"] for r in FeatureFirstUse.objects.filter(product=product)
            .values("feature_key", "actor").annotate(first=Min("day"))}


def _min_over_actor_days(product) -> dict:
    return {(r["feature_key"], r["actor"]): r["first"] for r in ActorDay.objects.filter(product=product)
            .values("feature_key", "actor").annotate(first=Min("day"))}


def _events(product, rng, n, days, prefix):
    rows = []
    for i in range(n):
        at = datetime.combine(START + timedelta(days=rng.randrange(days)), datetime.min.time(), tzinfo=UTC) \
            + timedelta(minutes=rng.randrange(1440))
        rows.append(UsageEvent(product=product, event_id=f"{prefix}{i}", feature_key=rng.choice(["search", "export"]),
                               actor=f"u{rng.randrange(30)}", occurred_at=at))
    UsageEvent.objects.bulk_create(rows)
    return {r.occurred_at.date() for r in rows}


def test_first_uses_follow_rollups_in_any_order_late_events_and_a_time_zone_rebuild(product):
    rng = random.Random(5)
    days = sorted(_events(product, rng, 300, 40, "a"))
    for day in rng.sample(days, len(days)):  # rollups in any order
        rollup_day(product_id=product.id, day=day, tz_name="UTC")
    assert _first_uses(product) == _min_over_actor_days(product) != {}
    # Late events, some before actors' known first use; only their days are rolled up.
    late = sorted(_events(product, rng, 60, 10, "late"))
    for day in late:
        rollup_day(product_id=product.id, day=day, tz_name="UTC")
    assert _first_uses(product) == _min_over_actor_days(product)
    # The workspace moves 11 hours west: every day is rebuilt and many first uses move a day back.
    before = _first_uses(product)
    rollup_range(product_id=product.id, first=START - timedelta(days=1), last=START + timedelta(days=41),
                 tz_name="Pacific/Pago_Pago")
    assert _first_uses(product) == _min_over_actor_days(product) != before


def test_retention_cohorts_come_from_first_uses_not_from_later_rows(product):
    """An actor whose first use lies before the cohorts is not in them, even if a later row of
    theirs exists (two far-apart rollups may both have written one)."""
    from adoption import selectors
    from adoption.models import Feature

    UsageEvent.objects.bulk_create([
        UsageEvent(product=product, event_id=f"r{i}", feature_key="search", actor=actor,
                   occurred_at=datetime.combine(day, datetime.min.time(), tzinfo=UTC))
        for i, (actor, day) in enumerate([("old", date(2026, 9, 1)), ("old", date(2026, 11, 3)),
                                          ("new", date(2026, 11, 2)), ("new", date(2026, 11, 9))])])
    for day in (date(2026, 11, 3), date(2026, 11, 2), date(2026, 11, 9), date(2026, 9, 1)):
        rollup_day(product_id=product.id, day=day, tz_name="UTC")
    assert FeatureFirstUse.objects.filter(product=product, actor="old").count() == 2  # 3 Nov, then 1 Sep
    feature = Feature.objects.get(product=product, key="search")
    retention = selectors.feature_retention(feature=feature, end=date(2026, 11, 22), cohorts=3)
    first = retention["cohorts"][0]
    assert first["start"] == date(2026, 11, 2) and first["size"] == 1  # "new" only
    assert [p["share"] for p in first["curve"]] == [1.0, 1.0, 0.0]
