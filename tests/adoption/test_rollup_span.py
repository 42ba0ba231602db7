"""Rollup of a span of days: the same rows as rolling each day up alone, and 7-day windows equal
to a distinct count computed by hand in Python (gaps, returns after a week, late events)."""

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command

from adoption.models import ActorDay, FeatureDaily, ProductDaily, TouchedDay, UsageEvent
from adoption.rollups import rollup_day, rollup_range
from adoption.tasks import rollup_span

pytestmark = pytest.mark.django_db

FIRST = date(2026, 10, 1)
DAYS = 20


def _events(product, seed: int, n: int = 400):
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        day = FIRST + timedelta(days=rng.randrange(DAYS))
        rows.append(UsageEvent(product=product, event_id=f"s{seed}-{i}", feature_key=rng.choice(["search", "export", "share"]),
                               actor=f"u{rng.randrange(30)}",
                               occurred_at=datetime(day.year, day.month, day.day, rng.randrange(24), tzinfo=UTC)))
    UsageEvent.objects.bulk_create(rows)
    return rows


def _expected(rows):
    """Per (feature, day) and per day: distinct users that day and in the 7 days ending it."""
    by_day = defaultdict(set)
    by_feature_day = defaultdict(set)
    for e in rows:
        by_day[e.occurred_at.date()].add(e.actor)
        by_feature_day[(e.feature_key, e.occurred_at.date())].add(e.actor)

    def window(table, key_of, day):
        users = set()
        for back in range(7):
            users |= table.get(key_of(day - timedelta(days=back)), set())
        return len(users)

    features = {(f, d): (len(users), window(by_feature_day, lambda x, f=f: (f, x), d))
                for (f, d), users in by_feature_day.items()}
    product = {d: (len(users), window(by_day, lambda x: x, d)) for d, users in by_day.items()}
    return features, product


def _actual(product):
    features = {(f, d): (u, u7) for f, d, u, u7 in
                FeatureDaily.objects.filter(product=product).values_list("feature__key", "day", "users", "users_7d")}
    daily = {d: (a, a7) for d, a, a7 in ProductDaily.objects.filter(product=product)
             .values_list("day", "active_users", "active_7d")}
    return features, daily


def test_span_rollup_matches_a_hand_computed_distinct_count(product):
    rows = _events(product, seed=7)
    summary = rollup_range(product_id=product.id, first=FIRST, last=FIRST + timedelta(days=DAYS - 1), tz_name="UTC")
    assert _actual(product) == _expected(rows)
    assert summary["events"] == len(rows)
    assert summary["active_users"] == max(users for users, _ in _expected(rows)[1].values())  # the busiest day


def test_span_rollup_gives_the_same_rows_as_one_day_at_a_time(product, other_product):
    rows = _events(product, seed=11)
    for e in rows:  # the same events in a second product, rolled up day by day
        e.pk, e.product = None, other_product
    UsageEvent.objects.bulk_create(rows)
    rollup_range(product_id=product.id, first=FIRST, last=FIRST + timedelta(days=DAYS - 1), tz_name="UTC")
    for n in range(DAYS):
        rollup_day(product_id=other_product.id, day=FIRST + timedelta(days=n), tz_name="UTC")
    one, other = _actual(product), _actual(other_product)
    assert one == other
    assert ActorDay.objects.filter(product=product).count() == ActorDay.objects.filter(product=other_product).count()


def test_a_late_event_updates_the_windows_of_the_six_days_after_it(product):
    rows = _events(product, seed=3)
    rollup_range(product_id=product.id, first=FIRST, last=FIRST + timedelta(days=DAYS - 1), tz_name="UTC")
    late_day = FIRST + timedelta(days=5)
    late = UsageEvent.objects.create(product=product, event_id="late", feature_key="search", actor="newcomer",
                                     occurred_at=datetime(late_day.year, late_day.month, late_day.day, 9, tzinfo=UTC))
    rollup_day(product_id=product.id, day=late_day, tz_name="UTC")
    assert _actual(product) == _expected([*rows, late])


def test_actor_returning_after_a_gap_counts_once_per_window(product):
    for i, offset in enumerate([0, 3, 12]):  # windows ending day 3..6 see both visits as one user
        day = FIRST + timedelta(days=offset)
        UsageEvent.objects.create(product=product, event_id=f"g{i}", feature_key="search", actor="a",
                                  occurred_at=datetime(day.year, day.month, day.day, 8, tzinfo=UTC))
    rollup_range(product_id=product.id, first=FIRST, last=FIRST + timedelta(days=13), tz_name="UTC")
    weekly = dict(ProductDaily.objects.filter(product=product).values_list("day", "active_7d"))
    assert weekly == {FIRST: 1, FIRST + timedelta(days=3): 1, FIRST + timedelta(days=12): 1}


def test_span_rollup_claims_pending_days_and_is_idempotent(product):
    _events(product, seed=5)
    TouchedDay.objects.create(product=product, day=FIRST, pending=True, touched_at=datetime(2026, 10, 2, tzinfo=UTC))
    rollup_span(product.id, FIRST.isoformat(), (FIRST + timedelta(days=DAYS - 1)).isoformat())
    first = _actual(product), ActorDay.objects.filter(product=product).count()
    rollup_span(product.id, FIRST.isoformat(), (FIRST + timedelta(days=DAYS - 1)).isoformat())
    assert (_actual(product), ActorDay.objects.filter(product=product).count()) == first
    assert not TouchedDay.objects.get(product=product, day=FIRST).pending


def test_span_must_not_end_before_it_starts(product):
    with pytest.raises(ValueError):
        rollup_range(product_id=product.id, first=FIRST, last=FIRST - timedelta(days=1), tz_name="UTC")


def test_rebuild_command_recomputes_the_span(product, capsys):
    rows = _events(product, seed=9)
    call_command("adoption_rebuild", "--product", str(product.id), "--to", "2026-10-25")
    assert _actual(product) == _expected(rows)
    assert f"{len(rows):,} events" in capsys.readouterr().out


def test_rebuild_all_repairs_windows_left_short_by_the_old_concurrent_rollups(product, other_product):
    rows = _events(product, seed=13)
    call_command("adoption_rebuild", "--product", str(product.id), "--to", "2026-10-25")
    # What the old race left behind: windows short by one or two users on some days.
    ProductDaily.objects.filter(product=product, day=FIRST + timedelta(days=4)).update(active_7d=1)
    FeatureDaily.objects.filter(product=product, day=FIRST + timedelta(days=9)).update(users_7d=0)
    with time_machine.travel(datetime(2026, 10, 25, 12, tzinfo=UTC), tick=False):
        call_command("adoption_rebuild", "--all")
    assert _actual(product) == _expected(rows)
    assert not ProductDaily.objects.filter(product=other_product).exists()  # no events, nothing made


def test_rebuild_ends_today_in_the_workspace_time_zone_by_default(product):
    product.workspace.time_zone = "Pacific/Auckland"
    product.workspace.save(update_fields=["time_zone"])
    UsageEvent.objects.create(product=product, event_id="nz", feature_key="search", actor="a",
                              occurred_at=datetime(2026, 10, 20, 12, tzinfo=UTC))  # 21 Oct 01:00 in Auckland
    with time_machine.travel(datetime(2026, 10, 20, 12, tzinfo=UTC), tick=False):
        call_command("adoption_rebuild", "--product", str(product.id))
    assert list(ProductDaily.objects.filter(product=product).values_list("day", "active_users")) == [
        (date(2026, 10, 21), 1)]
