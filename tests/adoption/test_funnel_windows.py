"""The dashboards' funnels: precomputed 30/90/365-day counts equal a live distinct count, are
refreshed by the rollup task, fall back to the last precomputed day, and several products take a
fixed number of queries."""

import random
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from adoption import selectors, tasks
from adoption.models import UsageEvent, WindowCount
from adoption.rollups import FUNNEL_WINDOWS, TABLE_WINDOWS, rollup_range, windows_refresh
from tests.adoption.factories import ProductFactory

pytestmark = pytest.mark.django_db

END = date(2026, 11, 25)


def _events(product, seed: int, days: int = 400, n: int = 600):
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        day = END - timedelta(days=rng.randrange(days))
        rows.append(UsageEvent(product=product, event_id=f"w{seed}-{i}", feature_key=rng.choice(["search", "export"]),
                               actor=f"u{rng.randrange(80)}",
                               occurred_at=datetime(day.year, day.month, day.day, 12, tzinfo=UTC)))
    UsageEvent.objects.bulk_create(rows)
    rollup_range(product_id=product.id, first=END - timedelta(days=days), last=END, tz_name="UTC")
    return rows


def _by_hand(rows, days: int) -> dict:
    start = END - timedelta(days=days - 1)
    inside = [e for e in rows if start <= e.occurred_at.date() <= END]
    out = {"": len({e.actor for e in inside})}
    for key in ("search", "export"):
        out[key] = len({e.actor for e in inside if e.feature_key == key})
    return out


def test_precomputed_windows_equal_a_distinct_count_by_hand(product):
    rows = _events(product, seed=1)
    windows_refresh(product_id=product.id, end=END)
    for days in FUNNEL_WINDOWS:
        stored = dict(WindowCount.objects.filter(product=product, days=days, end=END)
                      .values_list("feature_key", "users"))
        assert stored == _by_hand(rows, days), days
        funnel = selectors.adoption_funnel(product=product, start=END - timedelta(days=days - 1), end=END)
        live = {f["key"]: f["users"] for f in funnel} | {"": funnel[0]["active_users"]}
        assert live == _by_hand(rows, days)
        assert funnel[0]["as_of"] == END


def test_a_custom_period_is_counted_live(product):
    rows = _events(product, seed=2)
    funnel = selectors.adoption_funnel(product=product, start=END - timedelta(days=9), end=END)
    assert {f["key"]: f["users"] for f in funnel} | {"": funnel[0]["active_users"]} == _by_hand(rows, 10)
    assert not WindowCount.objects.exists()


def test_the_rollup_task_refreshes_the_windows_ending_today(product):
    _events(product, seed=3)
    with time_machine.travel(datetime(2026, 11, 25, 18, tzinfo=UTC), tick=False):
        tasks.rollup_day(product.id, END.isoformat())
    assert set(WindowCount.objects.filter(product=product).values_list("days", "end").distinct()) == {
        (d, END) for d in FUNNEL_WINDOWS + TABLE_WINDOWS} | {(w, END - timedelta(days=w)) for w in TABLE_WINDOWS}


def test_before_todays_rollup_the_funnel_shows_the_last_precomputed_day(product):
    rows = _events(product, seed=4)
    windows_refresh(product_id=product.id, end=END)
    tomorrow = END + timedelta(days=1)
    funnel = selectors.adoption_funnel(product=product, start=tomorrow - timedelta(days=29), end=tomorrow)
    assert funnel[0]["as_of"] == END
    assert {f["key"]: f["users"] for f in funnel} | {"": funnel[0]["active_users"]} == _by_hand(rows, 30)


def test_refresh_replaces_its_day_and_prunes_old_ones(product):
    _events(product, seed=5)
    windows_refresh(product_id=product.id, end=END - timedelta(days=10))
    windows_refresh(product_id=product.id, end=END)
    first = WindowCount.objects.filter(product=product).count()
    windows_refresh(product_id=product.id, end=END)
    assert WindowCount.objects.filter(product=product).count() == first
    # The funnels of END only; the adoption table's windows are kept 28 days, for reuse as a
    # previous window (decision 1915): those of END - 10, and the previous windows of both ends
    # that are not older than that.
    assert set(WindowCount.objects.filter(product=product).values_list("end", flat=True)) == {
        END, *(END - timedelta(days=w) for w in TABLE_WINDOWS), END - timedelta(days=10), END - timedelta(days=17)}
    assert set(WindowCount.objects.filter(product=product, end__lt=END).values_list("days", flat=True)) == set(
        TABLE_WINDOWS)


def test_funnels_of_many_products_take_a_fixed_number_of_queries(workspace, django_assert_max_num_queries):
    products = [ProductFactory(workspace=workspace) for _ in range(6)]
    for i, product in enumerate(products[:3]):
        _events(product, seed=10 + i, days=40, n=100)
    windows_refresh(product_id=products[0].id, end=END)
    with django_assert_max_num_queries(4):
        funnels = selectors.adoption_funnels(products=products, start=END - timedelta(days=29), end=END)
    assert [bool(funnels[p.id]) for p in products] == [True, True, True, False, False, False]


@pytest.mark.parametrize("window", TABLE_WINDOWS)
def test_the_adoption_tables_precomputed_windows_equal_the_live_count(product, window, django_assert_num_queries):
    """The adoption table (current and previous window, trend) reads the rows the worker stored
    after its rollup: the same figures as counting ActorDay in the request, in one query."""
    rows = _events(product, seed=7, days=80, n=900)
    features = {f.key: f.id for f in product.adoption_features.all()}
    live = selectors.adoption_by_feature(product_id=product.id, end=END, window=window)
    windows_refresh(product_id=product.id, end=END)
    with django_assert_num_queries(2):  # the stored counts, the feature ids
        stored = selectors.adoption_by_feature(product_id=product.id, end=END, window=window)
    assert stored == live
    prev_end = END - timedelta(days=window)
    by_hand_prev = {e.actor for e in rows if prev_end - timedelta(days=window) < e.occurred_at.date() <= prev_end
                    and e.feature_key == "search"}
    assert stored[features["search"]]["users"] == _by_hand(rows, window)["search"]
    assert stored[features["search"]]["previous_users"] == len(by_hand_prev)
    # Another day than the stored one is counted live (the two distinct counts over ActorDay).
    with django_assert_num_queries(4):
        selectors.adoption_by_feature(product_id=product.id, end=END - timedelta(days=1), window=window)
