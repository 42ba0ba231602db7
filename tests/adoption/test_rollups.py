"""Daily rollups: hand-computed counts, recomputing a day whole, windows, funnel and KPI sync."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine

from adoption import selectors
from adoption.models import ActorDay, Feature, FeatureDaily, ProductDaily, UsageEvent
from adoption.rollups import rollup_day
from adoption.services import feature_kpis_sync
from metrics.models import Kpi

pytestmark = pytest.mark.django_db

D1, D2 = date(2026, 11, 20), date(2026, 11, 21)


def add(product, i, feature, actor, day, hour=10):
    UsageEvent.objects.create(product=product, event_id=f"e{i}", feature_key=feature, actor=actor,
                              occurred_at=datetime(day.year, day.month, day.day, hour, tzinfo=UTC))


@pytest.fixture
def two_days(product):
    # Day 1: a uses search twice, b search once, a and c export. Day 2: a search, d export.
    for i, (feature, actor, day) in enumerate([
        ("search", "a", D1), ("search", "a", D1), ("search", "b", D1), ("export", "a", D1), ("export", "c", D1),
        ("search", "a", D2), ("export", "d", D2),
    ]):
        add(product, i, feature, actor, day)
    for day in (D1, D2):
        rollup_day(product_id=product.id, day=day, tz_name="UTC")
    return product


def rows(product):
    return sorted(FeatureDaily.objects.filter(product=product).values_list("feature__key", "day", "users", "events",
                                                                           "users_7d"))


def test_rollup_counts_distinct_actors_per_feature_and_day(two_days):
    assert rows(two_days) == [
        ("export", D1, 2, 2, 2), ("export", D2, 1, 1, 3),  # 7 days to D2: a, c, d
        ("search", D1, 2, 3, 2), ("search", D2, 1, 1, 2),  # 7 days to D2: a, b
    ]
    daily = {p.day: (p.active_users, p.events, p.active_7d) for p in ProductDaily.objects.filter(product=two_days)}
    assert daily == {D1: (3, 5, 3), D2: (2, 2, 4)}


def test_rollup_registers_new_features_from_their_keys(two_days):
    assert sorted(Feature.objects.filter(product=two_days).values_list("key", "name")) == [
        ("export", "Export"), ("search", "Search")]


def test_running_a_rollup_twice_gives_the_same_rows(two_days):
    before = rows(two_days), ActorDay.objects.filter(product=two_days).count()
    rollup_day(product_id=two_days.id, day=D1, tz_name="UTC")
    rollup_day(product_id=two_days.id, day=D1, tz_name="UTC")
    assert (rows(two_days), ActorDay.objects.filter(product=two_days).count()) == before


def test_weekly_adoption_is_users_of_the_feature_over_weekly_active(two_days):
    figures = selectors.adoption_by_feature(product_id=two_days.id, end=D2, window=7)
    by_key = {Feature.objects.get(pk=k).key: v for k, v in figures.items()}
    assert by_key["search"]["users"] == 2 and by_key["search"]["active"] == 4
    assert by_key["search"]["percent"] == 50.0
    assert by_key["export"]["percent"] == 75.0
    assert by_key["search"]["previous_percent"] is None and by_key["search"]["trend"] is None


def test_trend_compares_with_the_previous_window(product):
    # Previous window (8-14 Nov): a, b, c, d active, only a used search -> 25 %.
    # Current window (15-21 Nov): a and b active, both used search -> 100 %. Trend +75 points.
    for i, (feature, actor, day) in enumerate([
        ("search", "a", date(2026, 11, 10)), ("export", "b", date(2026, 11, 10)), ("export", "c", date(2026, 11, 12)),
        ("export", "d", date(2026, 11, 14)), ("search", "a", date(2026, 11, 16)), ("search", "b", date(2026, 11, 21)),
    ]):
        add(product, i, feature, actor, day)
    for day in (date(2026, 11, 10), date(2026, 11, 12), date(2026, 11, 14), date(2026, 11, 16), date(2026, 11, 21)):
        rollup_day(product_id=product.id, day=day, tz_name="UTC")
    table = selectors.adoption_table(product=product, end=D2, window=7, sort="trend")
    first = table["rows"][0]
    assert first["feature"].key == "search"
    assert (first["percent"], first["previous_percent"], first["trend"]) == (100.0, 25.0, 75.0)
    export = table["rows"][1]
    assert (export["percent"], export["previous_percent"], export["trend"]) == (0.0, 75.0, -75.0)


def test_feature_table_sorts_by_adoption(two_days):
    table = selectors.adoption_table(product=two_days, end=D2, window=7, sort="adoption")
    assert [r["feature"].key for r in table["rows"]] == ["export", "search"]
    table = selectors.adoption_table(product=two_days, end=D2, window=7, sort="-adoption")
    assert [r["feature"].key for r in table["rows"]] == ["search", "export"]


def test_adoption_funnel_for_metrics_dashboards(two_days):
    funnel = selectors.adoption_funnel(product=two_days, start=D1, end=D1)
    assert [(f["key"], f["active_users"], f["users"], f["adoption_percent"]) for f in funnel] == [
        ("export", 3, 2, 66.67), ("search", 3, 2, 66.67)]


def test_retention_of_feature_adopters(product):
    # Cohort week of 2 Nov: a, b. a is back in week 1, nobody in week 2.
    for i, (actor, day) in enumerate([("a", date(2026, 11, 2)), ("b", date(2026, 11, 3)), ("a", date(2026, 11, 9))]):
        add(product, i, "search", actor, day)
    for day in (date(2026, 11, 2), date(2026, 11, 3), date(2026, 11, 9)):
        rollup_day(product_id=product.id, day=day, tz_name="UTC")
    feature = Feature.objects.get(product=product, key="search")
    retention = selectors.feature_retention(feature=feature, end=date(2026, 11, 22), cohorts=3)
    first = retention["cohorts"][0]
    assert first["start"] == date(2026, 11, 2) and first["size"] == 2
    assert [p["share"] for p in first["curve"]] == [1.0, 0.5, 0.0]
    assert [p["share"] for p in retention["combined"]] == [1.0, 0.5, 0.0]


def test_adoption_is_written_into_the_features_kpi(two_days):
    kpi = Kpi.objects.create(product=two_days, name="Search adoption", unit="%", target_value=Decimal("60"))
    Feature.objects.filter(product=two_days, key="search").update(kpi=kpi)
    with time_machine.travel("2026-11-21T20:00:00Z", tick=False):
        assert feature_kpis_sync(product_id=two_days.id, tz_name="UTC") == 1
    kpi.refresh_from_db()
    assert kpi.current_value == Decimal("50.0000")
    assert kpi.current_at == D2
    assert Feature.objects.get(product=two_days, key="search").target == Decimal("60")


def test_feature_adoption_is_recorded_as_a_measurement_of_its_kpi(two_days):
    from metrics.models import Measurement

    kpi = Kpi.objects.create(product=two_days, name="Export adoption", unit="%")
    Feature.objects.filter(product=two_days, key="export").update(kpi=kpi)
    with time_machine.travel("2026-11-21T20:00:00Z", tick=False):
        feature_kpis_sync(product_id=two_days.id, tz_name="UTC")
        feature_kpis_sync(product_id=two_days.id, tz_name="UTC")  # a re-run updates, never duplicates
    assert list(Measurement.objects.filter(kpi=kpi).values_list("period_start", "value")) == [(D2, Decimal("75"))]
    kpi.refresh_from_db()
    assert kpi.current_value == Decimal("75") and kpi.current_at == D2


def test_rollup_of_a_day_without_events_leaves_no_rows(product):
    rollup_day(product_id=product.id, day=D1, tz_name="UTC")
    assert not FeatureDaily.objects.exists() and not ProductDaily.objects.exists()
