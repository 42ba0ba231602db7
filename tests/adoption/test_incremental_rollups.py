"""The incremental rollup (decision 1915: ActorDay by difference, later steps only for the days
whose pairs changed, windows from each actor's last day) leaves exactly the figures of a full
recompute: events ingested day after day as the worker would roll them up, late events for old
days, a batch of new events of known pairs, a re-rollup with no change, and a time-zone change
that moves pairs between days. On SQLite (`make run`) both are the full path and the test still
checks that the figures hold."""

import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.db.models import Min

from adoption import rollups, selectors, services, tasks
from adoption.models import (
    ActorDay,
    ActorLastDay,
    Feature,
    FeatureDaily,
    FeatureFirstUse,
    IngestionKey,
    ProductDaily,
    WindowCount,
    WindowDirtyDay,
)
from adoption.rollups import FUNNEL_WINDOWS, TABLE_WINDOWS
from tests.adoption.factories import ProductFactory, make_ingestion_key
from tests.factories import WorkspaceFactory

pytestmark = pytest.mark.django_db

TZ = "Europe/Berlin"
END = date(2026, 11, 25)
DAYS = 60
FEATURES = ("search", "export", "share", "import.csv")


def _local(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=ZoneInfo(TZ))


def _batch(rng: random.Random, day: date, n: int, tag: str, actors: int = 40) -> list[dict]:
    return [{"id": f"{tag}-{i}", "feature": rng.choice(FEATURES), "actor": f"u{rng.randrange(actors)}",
             "occurred_at": _local(day, rng.randrange(24)).replace(minute=rng.randrange(60)).isoformat()}
            for i in range(n)]


def _ingest(key: IngestionKey, items: list[dict]) -> None:
    # The worker path of POST /events/bulk/ (its queued rollup is run below, in order, as the
    # worker would).
    services.events_ingest(key=IngestionKey.objects.select_related("product__workspace").get(pk=key.pk), items=items)


def _figures(product, end: date) -> dict:
    """Every stored and shown figure of the product at `end`."""
    features = list(Feature.objects.filter(product=product).order_by("key"))
    windows = {(w, end) for w in FUNNEL_WINDOWS + TABLE_WINDOWS} | {(w, end - timedelta(days=w)) for w in TABLE_WINDOWS}
    # A missing row reads as 0 (selectors): a previous window kept from the day it was current has
    # no row for a feature first seen since.
    stored = {(d, e, k): u for d, e, k, u in WindowCount.objects.filter(product=product)
              .values_list("days", "end", "feature_key", "users") if (d, e) in windows and (u or k == "")}
    by_key = {f.id: f.key for f in features}
    adoption = {w: {by_key[fid]: row for fid, row in selectors.adoption_by_feature(
        product_id=product.id, end=end, window=w).items()} for w in (7, 28, 14)}
    funnels = {w: selectors.adoption_funnel(product=product, start=end - timedelta(days=w - 1), end=end)
               for w in (*FUNNEL_WINDOWS, 60)}
    return {
        "actor_day": sorted(ActorDay.objects.filter(product=product).values_list("day", "feature_key", "actor",
                                                                                  "events")),
        "first_use": sorted(FeatureFirstUse.objects.filter(product=product).values("feature_key", "actor")
                            .annotate(first=Min("day")).values_list("feature_key", "actor", "first")),
        "feature_daily": sorted(FeatureDaily.objects.filter(product=product).values_list(
            "feature__key", "day", "users", "events", "users_7d")),
        "product_daily": sorted(ProductDaily.objects.filter(product=product).values_list(
            "day", "active_users", "events", "active_7d")),
        "windows": stored,
        "adoption": adoption,
        "funnels": funnels,
        "retention": {f.key: selectors.feature_retention(feature=f, end=end) for f in features},
        "series": {f.key: selectors.feature_series(feature=f, start=end - timedelta(days=DAYS), end=end)
                   for f in features},
    }


def _full_recompute(product, first: date, end: date) -> None:
    rollups.rollup_range(product_id=product.id, first=first, last=end, tz_name=product.workspace.time_zone,
                         full=True)
    rollups.windows_refresh(product_id=product.id, end=end, full=True)


def _last_days_by_hand(product) -> dict:
    out: dict = {}
    for k, a, d in ActorDay.objects.filter(product=product).values_list("feature_key", "actor", "day"):
        out[(k, a)] = max(out.get((k, a), d), d)
        out[("", a)] = max(out.get(("", a), d), d)
    return out


def _stored_last_days(product) -> dict:
    return {(k, a): d for k, a, d in ActorLastDay.objects.filter(product=product)
            .values_list("feature_key", "actor", "day")}


def _day_by_day(product, key, rng, first: date) -> None:
    """Each local day: a batch in the morning and one in the evening, each followed by the rollup
    the ingestion queues; the beat re-runs yesterday's rollup (no change)."""
    for n in range(DAYS):
        day = first + timedelta(days=n)
        with time_machine.travel(_local(day, 23), tick=False):
            _ingest(key, _batch(rng, day, 30, f"{day}-a"))
            tasks.rollup_day(product.id, day.isoformat())
            _ingest(key, _batch(rng, day, 12, f"{day}-b"))
            tasks.rollup_day(product.id, day.isoformat())
            tasks.rollup_day(product.id, (day - timedelta(days=1)).isoformat())


def test_incremental_rollups_match_a_full_recompute_with_late_events():
    rng = random.Random(23)
    product = ProductFactory(workspace=WorkspaceFactory(time_zone=TZ))
    key = services.ingestion_key_authenticate(make_ingestion_key(product))
    first = END - timedelta(days=DAYS - 1)
    _day_by_day(product, key, rng, first)
    with time_machine.travel(_local(END, 23), tick=False):
        # Late events: an old day (outside the 28-day windows, inside the 30/90/365 ones), a day of
        # the previous 7-day window and yesterday, with new actors and known ones; each rolled up
        # as the ingestion queues it, then today again.
        late = (_batch(rng, END - timedelta(days=40), 25, "late-40", actors=60)
                + _batch(rng, END - timedelta(days=10), 25, "late-10", actors=60)
                + _batch(rng, END - timedelta(days=1), 10, "late-1", actors=60))
        _ingest(key, late)
        for back in (40, 10, 1, 0):
            tasks.rollup_day(product.id, (END - timedelta(days=back)).isoformat())
        # Known pairs only: counts change, no distinct count does.
        known = [{**e, "id": f"again-{i}"} for i, e in enumerate(_batch(random.Random(5), END, 20, "x", actors=3))]
        _ingest(key, known)
        tasks.rollup_day(product.id, END.isoformat())
        incremental = _figures(product, END)
        if connection.vendor == "postgresql":
            assert not WindowDirtyDay.objects.filter(product=product).exists()  # all consumed
            assert _stored_last_days(product) == _last_days_by_hand(product)
        _full_recompute(product, first - timedelta(days=1), END)
        full = _figures(product, END)
    assert incremental["actor_day"] and incremental["windows"]
    for name in full:
        assert incremental[name] == full[name], name


def test_a_rerun_without_new_events_writes_nothing():
    rng = random.Random(7)
    product = ProductFactory(workspace=WorkspaceFactory(time_zone=TZ))
    key = services.ingestion_key_authenticate(make_ingestion_key(product))
    with time_machine.travel(_local(END, 23), tick=False):
        _ingest(key, _batch(rng, END, 50, "a"))
        tasks.rollup_day(product.id, END.isoformat())
        before = _figures(product, END)
        result = rollups.rollup_range(product_id=product.id, first=END, last=END, tz_name=TZ)
        assert _figures(product, END) == before
    if connection.vendor == "postgresql":
        assert result["changed_days"] == 0 and result["windows_refreshed"] == 0


def test_a_time_zone_change_moves_pairs_between_days_and_still_matches():
    """Rows vanish from days (the shrink path: first uses recomputed, the last days rebuilt)."""
    rng = random.Random(11)
    product = ProductFactory(workspace=WorkspaceFactory(time_zone=TZ))
    key = services.ingestion_key_authenticate(make_ingestion_key(product))
    first = END - timedelta(days=DAYS - 1)
    _day_by_day(product, key, rng, first)
    product.workspace.time_zone = "America/Los_Angeles"
    product.workspace.save(update_fields=["time_zone"])
    with time_machine.travel(_local(END, 23), tick=False):
        tasks.rollup_span(product.id, (first - timedelta(days=1)).isoformat(), END.isoformat())
        incremental = _figures(product, END)
        if connection.vendor == "postgresql":
            assert _stored_last_days(product) == _last_days_by_hand(product)
        rollups.rollup_range(product_id=product.id, first=first - timedelta(days=1), last=END,
                             tz_name="America/Los_Angeles", full=True)
        rollups.windows_refresh(product_id=product.id, end=END, full=True)
        full = _figures(product, END)
    for name in full:
        assert incremental[name] == full[name], name


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_the_last_days_from_the_existing_rollups():
    """Migration 0007 on a database that already holds rollups: every (feature, actor) and every
    actor gets its last day, so the first incremental refresh counts what a full pass would."""
    from django.db.migrations.executor import MigrationExecutor

    product = ProductFactory(workspace=WorkspaceFactory(time_zone=TZ))
    executor = MigrationExecutor(connection)
    before = [("adoption", "0006_feature_first_use")]
    after = [key for key in executor.loader.graph.leaf_nodes() if key[0] == "adoption"]
    executor.migrate(before)
    try:
        rng = random.Random(3)
        with connection.cursor() as cursor:
            for _ in range(400):
                cursor.execute("INSERT INTO adoption_actorday (product_id, day, feature_key, actor, events) "
                               "VALUES (%s, %s, %s, %s, 1)",
                               [product.id, END - timedelta(days=rng.randrange(400)), rng.choice(FEATURES),
                                f"u{rng.randrange(50)}"])
    finally:
        MigrationExecutor(connection).migrate(after)
    assert _stored_last_days(product) == _last_days_by_hand(product) != {}
    assert rollups.windows_refresh(product_id=product.id, end=END) > 0
    stored = set(WindowCount.objects.filter(product=product).values_list("days", "end", "feature_key", "users"))
    rollups.windows_refresh(product_id=product.id, end=END, full=True)
    assert set(WindowCount.objects.filter(product=product).values_list("days", "end", "feature_key", "users")) == stored
