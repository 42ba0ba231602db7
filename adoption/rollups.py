"""Daily rollups of usage events, recomputed whole per (product, local day) or per span of days.

A rollup of the days [first, last] is, in one transaction:
1. claim the days (TouchedDay.pending -> false) so events arriving meanwhile queue another run;
2. rebuild ActorDay for each day: INSERT ... SELECT feature_key, actor, COUNT(*) ... GROUP BY
   over the day's events ([local midnight, next local midnight) in the workspace time zone);
3. register features seen for the first time;
4. rebuild FeatureDaily (users = COUNT of distinct actors per feature and day) and ProductDaily
   (active users = COUNT DISTINCT actor per day) from ActorDay, one statement each for the span;
5. refresh the trailing 7-day distinct counts of [first, last + 6] (a late event changes the
   weekly windows of the six days after it too), set-based: see `_refresh_windows`.

Running it twice gives the same rows, because every step deletes and rebuilds its slice.
See docs/decisions/0702-rollup-recompute-whole-day.md.
"""

import json
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Max, Sum
from django.utils import timezone

from .models import (
    ActorDay,
    ActorLastDay,
    Feature,
    FeatureDaily,
    FeatureFirstUse,
    ProductDaily,
    TouchedDay,
    UsageEvent,
    WindowCount,
    WindowDirtyDay,
)

WINDOW = 7
# The dashboards' standard periods (metrics.selectors.RANGES), precomputed by windows_refresh.
FUNNEL_WINDOWS = (30, 90, 365)
# The adoption table's windows (adoption.views.WINDOWS), precomputed with their previous window so
# the page reads a few rows instead of counting distinct actors over ActorDay (issue 23: 1.7 s at
# 1 M events; docs/decisions/1913-adoption-table-precomputed-windows.md).
TABLE_WINDOWS = (7, 28)


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of a local day as aware datetimes (23 or 25 hours long on DST changes)."""
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    return start, end


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _lock(product_id: int, days: list[date]) -> None:
    """Serialise the rollups whose rows overlap, and let this transaction group a day's events
    by hashing in memory: with fresh bulk inserts the planner's estimates are stale and it would
    otherwise sort a million strings under the database's linguistic collation (measured 5x
    slower).

    A rollup of [first, last] rewrites the ActorDay rows of those days, reads the ActorDay rows
    of [first - 6, last] for the 7-day windows and writes the windows of [first, last + 6]. So it
    takes a PostgreSQL advisory lock (released at commit) on every day of [first - 6, last + 6]:
    two rollups whose read and write sets meet always share a locked day and run one after the
    other, and the second one's statements (READ COMMITTED, each with a fresh snapshot taken
    after the lock) see the first one's committed rows. Locking only [first, last], as before,
    let a rollup of day d compute the windows of d .. d + 6 while the rollup of d - 2 was still
    uncommitted: those windows were short by the actors only seen on d - 2, and stayed so
    (docs/decisions/1113-rollup-window-locks.md). Keys are taken in order in one statement, so
    two overlapping spans cannot deadlock; rollups more than 12 days apart still run side by side.

    The commit does not wait for the WAL flush (synchronous_commit off, this transaction only):
    rollups are derived data, and a commit lost in a database crash also loses the claim of its
    days (TouchedDay, same transaction), so the sweep recomputes them; nothing else is at risk."""
    if connection.vendor == "postgresql":
        span = _days(days[0] - timedelta(days=WINDOW - 1), days[-1] + timedelta(days=WINDOW - 1))
        keys = [_lock_key(product_id, d) for d in span]
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(k) FROM unnest(%s::bigint[]) AS k ORDER BY k", [keys])
            cursor.execute("SET LOCAL work_mem = '256MB'")
            cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute("SET LOCAL synchronous_commit = off")


def _lock_key(product_id: int, day: date) -> int:
    return product_id * 1_000_000 + day.toordinal() % 1_000_000


# The key of a product's WindowCount refresh: below every day key of any product (those are
# at least 1_000_000 + an ordinal), so the two kinds never collide.
def _windows_lock(product_id: int) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [-product_id])


def _bytewise() -> str:
    """Distinct counts compare actor ids byte by byte (ids, not words): much cheaper than a
    linguistic collation on PostgreSQL, same result."""
    return ' COLLATE "C"' if connection.vendor == "postgresql" else ""


def _plus_days(expr: str, n: int) -> str:
    """SQL for a date column plus n days, on PostgreSQL (date + integer) and SQLite (ISO text)."""
    if connection.vendor == "postgresql":
        return f"({expr} + {int(n)})"
    return f"date({expr}, '{int(n):+d} day')"


def rollup_day(*, product_id: int, day: date, tz_name: str) -> dict:
    """Recompute the rollups of one product's local day. Returns a small summary."""
    summary = rollup_range(product_id=product_id, first=day, last=day, tz_name=tz_name)
    return {"product_id": product_id, "day": day.isoformat(), "active_users": summary["active_users"],
            "events": summary["events"], "features": summary["features"],
            "windows_refreshed": summary["windows_refreshed"]}


@transaction.atomic
def rollup_range(*, product_id: int, first: date, last: date, tz_name: str, full: bool = False) -> dict:
    """Recompute the rollups of the local days [first, last] of one product (a backfill, or the
    rebuild after a change of time zone). The statements are per span, not per day, except the
    ActorDay rebuild, which groups one day's events at a time (each day is cut at its own local
    midnight).

    On PostgreSQL (unless `full`) each day's ActorDay rows are brought to the fresh grouping by
    difference (`_actor_days_sync`: one statement inserts the new pairs, updates changed counts,
    deletes vanished pairs) and every later step only runs for the days that changed: a rerun of
    an unchanged day writes nothing, new events of known pairs only update the daily event sums,
    and the distinct counts (first uses, daily users, 7-day windows, WindowDirtyDay for
    windows_refresh) are recomputed only where a pair appeared or vanished. `full` (and SQLite,
    `make run`) deletes and rebuilds every step of the span as before; both give the same rows
    (tests/adoption/test_incremental_rollups.py)."""
    if last < first:
        raise ValueError("last must not be before first")
    days = _days(first, last)
    _lock(product_id, days)
    tz = ZoneInfo(tz_name)
    TouchedDay.objects.filter(product_id=product_id, day__gte=first, day__lte=last).update(
        pending=False, rolled_up_at=timezone.now()
    )
    if connection.vendor == "postgresql" and not full:
        summary = _rollup_incremental(product_id=product_id, days=days, tz=tz)
    else:
        summary = _rollup_full(product_id=product_id, first=first, last=last, tz=tz)
    daily = ProductDaily.objects.filter(product_id=product_id, day__gte=first, day__lte=last)
    totals = daily.aggregate(events=Sum("events"), peak=Max("active_users"))
    if connection.vendor == "postgresql":
        # The planner settings of _lock would outlive this function inside a caller's transaction.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem TO DEFAULT")
            cursor.execute("SET LOCAL enable_sort TO DEFAULT")
    # Distinct users of the whole span are not summed from the days (and not worth a distinct
    # count over the span here): the summary gives the busiest day's.
    return {
        "product_id": product_id,
        "first": first.isoformat(),
        "last": last.isoformat(),
        "active_users": totals["peak"] or 0,
        "events": totals["events"] or 0,
        **summary,
    }


def _rollup_full(*, product_id: int, first: date, last: date, tz: ZoneInfo) -> dict:
    """Every step of the span deleted and rebuilt (SQLite, and `full`)."""
    days = _days(first, last)
    actor_day, event = ActorDay._meta.db_table, UsageEvent._meta.db_table
    ActorDay.objects.filter(product_id=product_id, day__gte=first, day__lte=last).delete()
    with connection.cursor() as cursor:
        for day in days:
            # As the ORM would send them (SQLite compares naive UTC text).
            start, end = (connection.ops.adapt_datetimefield_value(b) for b in day_bounds(day, tz))
            cursor.execute(
                f"INSERT INTO {actor_day} (product_id, day, feature_key, actor, events) "  # noqa: S608 - table names
                f"SELECT product_id, %s, feature_key, actor, COUNT(*) FROM {event} "
                "WHERE product_id = %s AND occurred_at >= %s AND occurred_at < %s "
                "GROUP BY product_id, feature_key, actor",
                [day, product_id, start, end],
            )
    _first_use_update(product_id=product_id, first=first, last=last)
    keys, _ = _features_register(product_id=product_id, first=first, last=last)
    FeatureDaily.objects.filter(product_id=product_id, day__gte=first, day__lte=last).delete()
    ProductDaily.objects.filter(product_id=product_id, day__gte=first, day__lte=last).delete()
    _dailies_upsert(product_id=product_id, first=first, last=last)
    refreshed = _refresh_windows(product_id=product_id, first=first, last=last + timedelta(days=WINDOW - 1))
    if connection.vendor == "postgresql":
        # The windows' pass reads ActorDay from scratch next time (a full rollup may have moved
        # pairs between days: a time-zone change).
        WindowDirtyDay.objects.bulk_create([WindowDirtyDay(product_id=product_id, day=d, rebuild=True) for d in days])
    return {"features": len(keys), "windows_refreshed": refreshed, "changed_days": len(days)}


# Spans longer than this record "rebuild" instead of every new pair for windows_refresh (a
# backfill inserts most of its rows: one pass over ActorDay is cheaper than replaying them).
PAIRS_RECORDED_DAYS = 2


# A single day's rollup with at most this many new pairs moves the 7-day columns by difference
# (index probes per new pair) instead of recounting seven days of ActorDay.
DELTA_MAX_PAIRS = 20_000


def _rollup_incremental(*, product_id: int, days: list[date], tz: ZoneInfo) -> dict:
    """PostgreSQL: ActorDay by difference per day, then only the changed days' later steps."""
    record = len(days) <= PAIRS_RECORDED_DAYS
    counted, paired, shrunk = [], [], []
    deltas = None
    for day in days:
        inserted, updated, deleted, deltas = _actor_days_sync(
            product_id=product_id, day=day, tz=tz, record_pairs=record, deltas=len(days) == 1
        )
        if inserted or updated or deleted:
            counted.append(day)
        if inserted or deleted:
            paired.append(day)
        if deleted:
            shrunk.append(day)
    first, last = days[0], days[-1]
    for day in shrunk:
        # A pair vanished from a day (a rebuild in another time zone): its first use is
        # recomputed (new pairs got theirs in _actor_days_sync).
        _first_use_update(product_id=product_id, first=day, last=day)
    # Registered on any change: a key whose feature was deleted comes back with its next events.
    keys, registered = (
        _features_register(product_id=product_id, first=first, last=last)
        if counted
        else (_features_seen(product_id=product_id, first=first, last=last), False)
    )
    if registered:
        # Daily rows and 7-day windows of a (re)registered feature over the whole span.
        counted = paired = days
    refreshed = 0
    created = 0
    if counted:
        created = _dailies_upsert(
            product_id=product_id, first=counted[0], last=counted[-1], only=counted, prune=bool(shrunk)
        )
    if paired:
        if deltas is not None and not shrunk and not registered and created == 0:
            # Only new pairs on a day whose daily rows all existed: each 7-day column moves by the
            # new pairs (and actors) with no other row in its window (decision 1915).
            refreshed = _windows_add(product_id=product_id, deltas=deltas)
        else:
            refreshed = _refresh_windows(
                product_id=product_id, first=paired[0], last=paired[-1] + timedelta(days=WINDOW - 1)
            )
        rebuilds = [d for d in paired if d in shrunk or not record]
        WindowDirtyDay.objects.bulk_create(
            [WindowDirtyDay(product_id=product_id, day=d, rebuild=True) for d in rebuilds]
        )
    return {"features": len(keys), "windows_refreshed": refreshed, "changed_days": len(paired)}


def _windows_add(*, product_id: int, deltas: dict) -> int:
    """Add the 7-day deltas _actor_days_sync computed to FeatureDaily.users_7d and
    ProductDaily.active_7d. Returns the number of days with rows it covered."""
    feature_daily, feature, product_daily = (
        FeatureDaily._meta.db_table,
        Feature._meta.db_table,
        ProductDaily._meta.db_table,
    )
    with connection.cursor() as cursor:
        if deltas["features"]:
            cursor.execute(
                f"UPDATE {feature_daily} fd SET users_7d = fd.users_7d + x.n "  # noqa: S608 - table names
                f"FROM json_to_recordset(%s::json) AS x(feature_key text, day date, n int), {feature} f "
                "WHERE f.product_id = %s AND f.key = x.feature_key AND fd.feature_id = f.id AND fd.day = x.day",
                [json.dumps(deltas["features"]), product_id],
            )
        if deltas["actors"]:
            cursor.execute(
                f"UPDATE {product_daily} pd SET active_7d = pd.active_7d + x.n "  # noqa: S608
                "FROM json_to_recordset(%s::json) AS x(day date, n int) WHERE pd.product_id = %s AND pd.day = x.day",
                [json.dumps(deltas["actors"]), product_id],
            )
    return len(deltas["targets"])


def _actor_days_sync(
    *, product_id: int, day: date, tz: ZoneInfo, record_pairs: bool, deltas: bool = False
) -> tuple[int, int, int, dict | None]:
    """One statement: group the day's events (bounded on the partition key, so the planner reads
    one or two monthly partitions), compare with the day's ActorDay rows, insert the new pairs
    (their first use when the pair has none as early, and with `record_pairs` a WindowDirtyDay
    row each), update changed counts, delete the pairs that are gone. Returns (inserted,
    updated, deleted, deltas).

    With `deltas` (and at most DELTA_MAX_PAIRS new pairs) the same statement also computes, for
    each day t' of [day, day + 6] that has rows, how many new pairs (per feature) and how many
    actors new on the day had no row in the 7 days ending t' before this statement (every
    sub-statement reads the snapshot taken before the inserts): the amounts by which the 7-day
    columns grow. {"features": [{feature_key, day, n}], "actors": [{day, n}], "targets": [...]}
    or None (not computed)."""
    actor_day, event, first_use, dirty = (
        ActorDay._meta.db_table,
        UsageEvent._meta.db_table,
        FeatureFirstUse._meta.db_table,
        WindowDirtyDay._meta.db_table,
    )
    recorded = (
        (
            f"dp AS (INSERT INTO {dirty} (product_id, day, feature_key, actor, rebuild) "  # noqa: S608
            "SELECT %(p)s, %(d)s, feature_key, actor, FALSE FROM ins RETURNING 1), "
        )
        if record_pairs
        else ""
    )
    start, end = day_bounds(day, tz)
    delta_sql, delta_select, keys = "", ", NULL, NULL, NULL", []
    if deltas:
        keys = _feature_keys(product_id)
        product_daily = ProductDaily._meta.db_table
        gate = "(SELECT COUNT(*) FROM ins) <= %(most)s"
        delta_sql = (
            f"targets AS (SELECT day AS t FROM {product_daily} WHERE product_id = %(p)s "  # noqa: S608
            "AND day > %(d)s AND day <= %(d)s::date + 6 UNION SELECT %(d)s::date), "
            # Probes as scalar subqueries (LIMIT 1): one index probe per row, never an anti-join
            # that the planner could turn into a scan of the table.
            "df AS (SELECT ins.feature_key, targets.t AS day, COUNT(*) AS n FROM ins CROSS JOIN targets "
            f"WHERE {gate} AND (SELECT 1 FROM {actor_day} a WHERE a.product_id = %(p)s "
            "AND a.feature_key = ins.feature_key AND a.actor = ins.actor AND a.day > targets.t - 7 "
            "AND a.day <= targets.t LIMIT 1) IS NULL GROUP BY ins.feature_key, targets.t), "
            # NOT IN over the day's old rows: one hashed subplan (a NOT EXISTS against the CTE was
            # planned as a nested loop, 1,000 x 50,000 comparisons: 6 s at 10 M events).
            "fresh_actors AS (SELECT DISTINCT ins.actor FROM ins WHERE ins.actor NOT IN (SELECT old.actor FROM old)), "
            "da AS (SELECT targets.t AS day, COUNT(*) AS n FROM fresh_actors CROSS JOIN targets "
            f"WHERE {gate} AND (SELECT 1 FROM {actor_day} a WHERE a.product_id = %(p)s "
            "AND a.feature_key = ANY(%(keys)s::text[]) AND a.actor = fresh_actors.actor AND a.day > targets.t - 7 "
            "AND a.day <= targets.t LIMIT 1) IS NULL GROUP BY targets.t), "
        )
        delta_select = (
            f", {gate}, (SELECT COALESCE(json_agg(df), '[]') FROM df), "  # noqa: S608 - fixed fragments
            "(SELECT COALESCE(json_agg(da), '[]') FROM da), (SELECT json_agg(t) FROM targets)"
        )
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH fresh AS (SELECT feature_key, actor, COUNT(*) AS n FROM {event} "  # noqa: S608 - table names
            "WHERE product_id = %(p)s AND occurred_at >= %(start)s AND occurred_at < %(end)s "
            "GROUP BY feature_key, actor), "
            f"old AS (SELECT id, feature_key, actor, events FROM {actor_day} "
            "WHERE product_id = %(p)s AND day = %(d)s), "
            "diff AS (SELECT o.id, o.events, COALESCE(f.feature_key, o.feature_key) AS feature_key, "
            "COALESCE(f.actor, o.actor) AS actor, f.n FROM fresh f FULL JOIN old o "
            "ON o.feature_key = f.feature_key AND o.actor = f.actor), "
            f"ins AS (INSERT INTO {actor_day} (product_id, day, feature_key, actor, events) "
            "SELECT %(p)s, %(d)s, feature_key, actor, n FROM diff WHERE id IS NULL RETURNING feature_key, actor), "
            # Changed and vanished rows by primary key from arrays (index scans on id), never a
            # join the planner could run as a scan of the whole table.
            f"upd AS (UPDATE {actor_day} a SET events = x.n FROM unnest("
            "(SELECT array_agg(id) FROM diff WHERE n IS NOT NULL AND n <> events), "
            "(SELECT array_agg(n) FROM diff WHERE n IS NOT NULL AND n <> events)) AS x(id, n) "
            "WHERE a.id = x.id RETURNING 1), "
            f"del AS (DELETE FROM {actor_day} a "
            "WHERE a.id = ANY((SELECT array_agg(id) FROM diff WHERE n IS NULL)::bigint[]) RETURNING 1), "
            f"{recorded}fu AS (INSERT INTO {first_use} (product_id, feature_key, actor, day) "
            "SELECT %(p)s, ins.feature_key, ins.actor, %(d)s FROM ins "
            f"WHERE (SELECT 1 FROM {first_use} f WHERE f.product_id = %(p)s "
            "AND f.feature_key = ins.feature_key AND f.actor = ins.actor AND f.day <= %(d)s LIMIT 1) IS NULL "
            "RETURNING 1), "
            f"{delta_sql}counted AS (SELECT (SELECT COUNT(*) FROM ins) AS ins, (SELECT COUNT(*) FROM upd) AS upd, "
            "(SELECT COUNT(*) FROM del) AS del, (SELECT COUNT(*) FROM fu) AS fu) "
            f"SELECT ins, upd, del{delta_select} FROM counted",
            {"p": product_id, "d": day, "start": start, "end": end, "keys": keys, "most": DELTA_MAX_PAIRS},
        )
        row = cursor.fetchone()
    inserted, updated, deleted = row[:3]
    computed = None
    if deltas and row[3]:
        computed = {"features": row[4], "actors": row[5], "targets": row[6] or []}
    return inserted, updated, deleted, computed


def _feature_keys(product_id: int) -> list[str]:
    """Every feature key in the product's ActorDay rows, by a loose index scan (one descent of
    the (product, feature_key, actor, day) index per key)."""
    table = ActorDay._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH RECURSIVE k(key) AS (SELECT MIN(feature_key) FROM {table} WHERE product_id = %s "  # noqa: S608
            f"UNION ALL SELECT (SELECT MIN(feature_key) FROM {table} WHERE product_id = %s AND feature_key > k.key) "
            "FROM k WHERE k.key IS NOT NULL) SELECT key FROM k WHERE key IS NOT NULL",
            [product_id, product_id],
        )
        return [k for (k,) in cursor.fetchall()]


def _features_seen(*, product_id: int, first: date, last: date) -> set[str]:
    span = ActorDay.objects.filter(product_id=product_id, day__gte=first, day__lte=last)
    return set(span.values_list("feature_key", flat=True).distinct())


def _features_register(*, product_id: int, first: date, last: date) -> tuple[set[str], bool]:
    """Register the span's feature keys seen for the first time; return the span's keys and
    whether any was new."""
    keys = _features_seen(product_id=product_id, first=first, last=last)
    known = set(Feature.objects.filter(product_id=product_id, key__in=keys).values_list("key", flat=True))
    if keys - known:
        Feature.objects.bulk_create(
            [Feature(product_id=product_id, key=k, name=_name_from_key(k)) for k in sorted(keys - known)],
            ignore_conflicts=True,
        )
    return keys, bool(keys - known)


def _dailies_upsert(
    *, product_id: int, first: date, last: date, only: list[date] | None = None, prune: bool = False
) -> None:
    """FeatureDaily (users, events) and ProductDaily (active users, events) of the days of
    [first, last] (or of `only`) from ActorDay, INSERT ... SELECT ... ON CONFLICT DO UPDATE: the
    7-day columns of existing rows stay (new rows get 0 until _refresh_windows). `prune` deletes
    the rows of those days that no longer have any ActorDay row. Returns the number of rows
    created (PostgreSQL; -1 on SQLite, which does not tell)."""
    actor_day, feature_daily, feature, product_daily = (
        ActorDay._meta.db_table,
        FeatureDaily._meta.db_table,
        Feature._meta.db_table,
        ProductDaily._meta.db_table,
    )
    days = only or _days(first, last)
    marks = ", ".join(["%s"] * len(days))
    # PostgreSQL: a row that the upsert inserted (not updated) has no xmax.
    created = " RETURNING (xmax = 0)" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        if prune:
            cursor.execute(
                f"DELETE FROM {feature_daily} WHERE product_id = %s AND day IN ({marks}) AND NOT EXISTS ("  # noqa: S608
                f"SELECT 1 FROM {actor_day} a JOIN {feature} f "
                "ON f.product_id = a.product_id AND f.key = a.feature_key "
                f"WHERE a.product_id = {feature_daily}.product_id AND a.day = {feature_daily}.day "
                f"AND f.id = {feature_daily}.feature_id)",
                [product_id, *days],
            )
            cursor.execute(
                f"DELETE FROM {product_daily} WHERE product_id = %s AND day IN ({marks}) AND NOT EXISTS ("  # noqa: S608
                f"SELECT 1 FROM {actor_day} a WHERE a.product_id = {product_daily}.product_id "
                f"AND a.day = {product_daily}.day)",
                [product_id, *days],
            )
        cursor.execute(
            f"INSERT INTO {feature_daily} (product_id, feature_id, day, users, events, users_7d) "  # noqa: S608
            f"SELECT a.product_id, f.id, a.day, COUNT(*), SUM(a.events), 0 FROM {actor_day} a "
            f"JOIN {feature} f ON f.product_id = a.product_id AND f.key = a.feature_key "
            f"WHERE a.product_id = %s AND a.day IN ({marks}) GROUP BY a.product_id, f.id, a.day "
            "ON CONFLICT (feature_id, day) DO UPDATE SET users = EXCLUDED.users, events = EXCLUDED.events" + created,
            [product_id, *days],
        )
        made = sum(1 for (new,) in cursor.fetchall() if new) if created else -1
        cursor.execute(
            f"INSERT INTO {product_daily} (product_id, day, active_users, events, active_7d, computed_at) "  # noqa: S608
            f"SELECT product_id, day, COUNT(DISTINCT actor{_bytewise()}), SUM(events), 0, %s FROM {actor_day} "
            f"WHERE product_id = %s AND day IN ({marks}) GROUP BY product_id, day "
            "ON CONFLICT (product_id, day) DO UPDATE SET active_users = EXCLUDED.active_users, "
            "events = EXCLUDED.events, computed_at = EXCLUDED.computed_at" + created,
            [timezone.now(), product_id, *days],
        )
        if created:
            made += sum(1 for (new,) in cursor.fetchall() if new)
    return made


def _first_use_update(*, product_id: int, first: date, last: date) -> None:
    """FeatureFirstUse from the span's fresh ActorDay rows: the rows whose day lies in the span are
    recomputed from it (a rebuild after a change of time zone may move them), and a pair gets a
    row only if it has none as early. No unique key, so no waits on other rollups' rows: two
    rollups of distant days may both add a row for a pair; readers take the lowest."""
    table, actor_day = FeatureFirstUse._meta.db_table, ActorDay._meta.db_table
    FeatureFirstUse.objects.filter(product_id=product_id, day__gte=first, day__lte=last).delete()
    with connection.cursor() as cursor:
        cursor.execute(
            # The minimum is taken in a derived table: SQLite (`make run`) refuses an aggregate
            # inside a correlated subquery of HAVING.
            f"INSERT INTO {table} (product_id, feature_key, actor, day) "  # noqa: S608 - table names
            "SELECT g.product_id, g.feature_key, g.actor, g.first_day FROM ("
            f"SELECT a.product_id, a.feature_key, a.actor, MIN(a.day) AS first_day FROM {actor_day} a "
            "WHERE a.product_id = %s AND a.day >= %s AND a.day <= %s "
            "GROUP BY a.product_id, a.feature_key, a.actor) g "
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} f WHERE f.product_id = g.product_id "
            "AND f.feature_key = g.feature_key AND f.actor = g.actor AND f.day <= g.first_day)",
            [product_id, first, last],
        )


def _refresh_windows(*, product_id: int, first: date, last: date) -> int:
    """Distinct users per feature and overall in the 7 days ending each day of [first, last]: two
    UPDATE ... FROM statements, without expanding every row into its seven windows.

    An actor active on day d counts in the windows ending d .. d+6; if they are active again on a
    later day n, the windows from n on are counted from that day instead. So each (actor, day)
    covers [d, min(d + 6, n - 1)] (n from LEAD over the actor's days), and the number of actors in
    the window ending a day is the running sum of +1 at each interval's start and -1 the day after
    its end. Every rollup row's day starts an interval, so the running sum is exact on the days
    that have rows, the only ones updated. ActorDay rows in [first - 6, last] are all that can
    cover a day of [first, last]. Returns the number of days in [first, last] that have rows."""
    actor_day, feature_daily, feature, product_daily = (
        ActorDay._meta.db_table, FeatureDaily._meta.db_table, Feature._meta.db_table, ProductDaily._meta.db_table)
    collate = _bytewise()
    end = (f"CASE WHEN nxt IS NULL OR nxt > {_plus_days('day', WINDOW - 1)} "
           f"THEN {_plus_days('day', WINDOW)} ELSE nxt END")

    def running(pairs: str, group: str) -> str:
        # CTE "running" (g, day, users): users in the window ending `day`, at each change point.
        return (
            f"WITH pairs AS ({pairs}), "  # noqa: S608 - table names and fixed fragments
            f"iv AS (SELECT {group} AS g, day, LEAD(day) OVER (PARTITION BY {group}, actor{collate} "
            f"ORDER BY day) AS nxt FROM pairs), "
            f"deltas AS (SELECT g, day, 1 AS d FROM iv UNION ALL SELECT g, {end} AS day, -1 AS d FROM iv), "
            "running AS (SELECT g, day, SUM(SUM(d)) OVER (PARTITION BY g ORDER BY day) AS users "
            "FROM deltas GROUP BY g, day) "
        )

    span = "WHERE product_id = %s AND day >= %s AND day <= %s"
    params = [product_id, first - timedelta(days=WINDOW - 1), last]
    with connection.cursor() as cursor:
        cursor.execute(
            running(f"SELECT feature_key, actor, day FROM {actor_day} {span}", "feature_key")  # noqa: S608
            + f"UPDATE {feature_daily} SET users_7d = running.users FROM running, {feature} f "  # noqa: S608
            f"WHERE {feature_daily}.product_id = %s AND {feature_daily}.day >= %s AND {feature_daily}.day <= %s "
            f"AND f.id = {feature_daily}.feature_id AND f.key = running.g AND running.day = {feature_daily}.day",
            params + [product_id, first, last],
        )
        cursor.execute(
            running(f"SELECT DISTINCT actor, day FROM {actor_day} {span}", "0")  # noqa: S608
            + f"UPDATE {product_daily} SET active_7d = running.users FROM running "  # noqa: S608
            f"WHERE {product_daily}.product_id = %s AND {product_daily}.day >= %s AND {product_daily}.day <= %s "
            f"AND running.day = {product_daily}.day",
            params + [product_id, first, last],
        )
        return cursor.rowcount


@transaction.atomic
def windows_refresh(*, product_id: int, end: date, full: bool = False) -> int:
    """Distinct users per feature and overall in the 30, 90 and 365 local days ending `end` (the
    dashboards' funnels), and in the 7 and 28 days ending `end` and ending one window earlier
    (the adoption table's current and previous windows, TABLE_WINDOWS), as WindowCount rows.
    Replaces the rows of `end` (and of the previous windows' ends) and prunes rows no longer
    read. Returns the number of rows written.

    On PostgreSQL (unless `full`) the current windows are counted from ActorLastDay (each actor's
    last day per feature), first brought up to date from the ActorDay changes the rollups
    recorded since the previous refresh (WindowDirtyDay), and a previous window is read back from
    the rows stored when it was current unless a change in its days deleted them: the cost follows
    the changes and the number of (feature, actor) pairs, not a year of ActorDay
    (docs/decisions/1915-incremental-rollups.md). `full` (and SQLite, `make run`) counts all
    windows in one pass over a year of ActorDay, as before; both give the same rows
    (tests/adoption/test_incremental_rollups.py).

    Two refreshes of a product run one after the other (an advisory lock), so their delete and
    insert of the same `end` cannot interleave into duplicate rows."""
    _windows_lock(product_id)
    windows = sorted(set(FUNNEL_WINDOWS) | set(TABLE_WINDOWS))
    if connection.vendor == "postgresql" and not full:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '256MB'")
        changed = _actor_last_sync(product_id)
        mine = WindowCount.objects.filter(product_id=product_id, end=end)
        if not changed and set(mine.filter(feature_key="").values_list("days", flat=True)) == set(windows):
            # Nothing recorded since these rows were counted (a change would have deleted them).
            current = None
            keys = list(mine.filter(days=max(windows)).values_list("feature_key", flat=True))
        else:
            current = _windows_from_last_days(product_id, end, windows)
            keys = list(current)
        previous = {}
        for w in TABLE_WINDOWS:
            stored = WindowCount.objects.filter(product_id=product_id, days=w, end=end - timedelta(days=w))
            if keys and not stored.filter(feature_key="").exists():
                # A row per key of the current windows, as the full pass writes them (0 included).
                scanned = _window_scan(product_id, end - timedelta(days=w), w)
                previous[w] = {key: scanned.get(key, 0) for key in keys}
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem TO DEFAULT")
    else:
        current, previous = _windows_scan_all(product_id, end, windows)
    return _windows_store(product_id, end, current, previous)


def _windows_scan_all(product_id: int, end: date, windows: list[int]) -> tuple[dict, dict]:
    """All windows in one pass over ActorDay: the last active day of each (feature, actor) and of
    each actor in the longest window, counted against each window's start, plus whether they were
    active in each previous window. ({key: {days: users}}, {days: {key: users}})."""
    table = ActorDay._meta.db_table
    low = end - timedelta(days=max(FUNNEL_WINDOWS))
    counts = ", ".join(
        ["SUM(CASE WHEN last > %s THEN 1 ELSE 0 END)"] * len(windows) + [f"SUM(prev{w})" for w in TABLE_WINDOWS]
    )
    previous = "".join(f", MAX(CASE WHEN day > %s AND day <= %s THEN 1 ELSE 0 END) AS prev{w}" for w in TABLE_WINDOWS)
    prev_params = [d for w in TABLE_WINDOWS for d in (end - timedelta(days=2 * w), end - timedelta(days=w))]
    span = "WHERE product_id = %s AND day > %s AND day <= %s"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT k, {counts} FROM ("  # noqa: S608 - table name and fixed fragments
            f" SELECT feature_key AS k, actor, MAX(day) AS last{previous} FROM {table} {span}"
            " GROUP BY feature_key, actor"
            f" UNION ALL SELECT '' AS k, actor, MAX(day) AS last{previous} FROM {table} {span} GROUP BY actor"
            ") t GROUP BY k",
            [end - timedelta(days=d) for d in windows] + (prev_params + [product_id, low, end]) * 2,
        )
        rows = cursor.fetchall()
    current = {row[0]: {days: row[n + 1] or 0 for n, days in enumerate(windows)} for row in rows}
    previous_counts = {w: {row[0]: row[len(windows) + n + 1] or 0 for row in rows} for n, w in enumerate(TABLE_WINDOWS)}
    return current, previous_counts


def _windows_store(product_id: int, end: date, current: dict | None, previous: dict) -> int:
    """Write the windows ending `end` (None: they stand) and the recomputed previous windows;
    prune the rows that no reader needs (funnels: the last week; the table windows: as long as
    they can serve as a previous window)."""
    mine = WindowCount.objects.filter(product_id=product_id)
    if current is None:
        current = {}
    else:
        mine.filter(end=end).delete()
    mine.filter(end__lt=end - timedelta(days=max(TABLE_WINDOWS))).delete()
    mine.filter(end__lt=end - timedelta(days=WINDOW)).exclude(days__in=TABLE_WINDOWS).delete()
    made = [
        WindowCount(product_id=product_id, end=end, days=days, feature_key=key, users=users)
        for key, per_window in current.items()
        for days, users in per_window.items()
    ]
    for w, per_key in previous.items():
        mine.filter(days=w, end=end - timedelta(days=w)).delete()
        made += [
            WindowCount(product_id=product_id, end=end - timedelta(days=w), days=w, feature_key=key, users=users)
            for key, users in per_key.items()
        ]
    WindowCount.objects.bulk_create(made)
    return len(made)


def _window_scan(product_id: int, end: date, days: int) -> dict[str, int]:
    """Distinct users per feature and overall ('', always present) in the `days` local days
    ending `end`, from ActorDay (PostgreSQL; hash aggregates)."""
    table = ActorDay._meta.db_table
    span = "WHERE product_id = %s AND day > %s AND day <= %s"
    params = [product_id, end - timedelta(days=days), end]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT k, COUNT(*) FROM (SELECT feature_key AS k, actor FROM {table} {span} "  # noqa: S608
            f"GROUP BY feature_key, actor UNION ALL SELECT '' AS k, actor FROM {table} {span} GROUP BY actor) t "
            "GROUP BY k",
            params * 2,
        )
        counts = dict(cursor.fetchall())
    counts.setdefault("", 0)
    return counts


def _actor_last_sync(product_id: int) -> bool:
    """Bring ActorLastDay up to date with the ActorDay changes recorded since the last refresh
    (PostgreSQL, under the windows lock): consume the WindowDirtyDay rows, raise the last day of
    every new pair (and of its actor, '' key), and delete the stored windows whose days include
    a changed day (they are recomputed when read again). A "rebuild" row (pairs vanished, or a
    span rebuilt whole) recomputes the product's ActorLastDay from ActorDay instead. Returns
    whether anything was recorded."""
    dirty, last, counts = (WindowDirtyDay._meta.db_table, ActorLastDay._meta.db_table, WindowCount._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH gone AS (DELETE FROM {dirty} WHERE product_id = %(p)s "  # noqa: S608 - table names
            "RETURNING day, feature_key, actor, rebuild), "
            "src AS (SELECT feature_key, actor, MAX(day) AS day FROM gone WHERE NOT rebuild "
            "GROUP BY feature_key, actor "
            "UNION ALL SELECT '', actor, MAX(day) FROM gone WHERE NOT rebuild GROUP BY actor), "
            f"up AS (INSERT INTO {last} (product_id, feature_key, actor, day) SELECT %(p)s, feature_key, actor, day "
            f"FROM src ON CONFLICT (product_id, feature_key, actor) DO UPDATE SET day = EXCLUDED.day "
            f"WHERE {last}.day < EXCLUDED.day RETURNING 1) "
            "SELECT COALESCE(array_agg(DISTINCT day), '{}'), COALESCE(bool_or(rebuild), FALSE), "
            "(SELECT COUNT(*) FROM up) FROM gone",
            {"p": product_id},
        )
        days, rebuild, _ = cursor.fetchone()
        changed = bool(days)
        if days:
            cursor.execute(
                f"DELETE FROM {counts} WHERE product_id = %s AND EXISTS ("  # noqa: S608
                f'SELECT 1 FROM unnest(%s::date[]) d WHERE {counts}."end" >= d '
                f'AND {counts}."end" < d + {counts}.days)',
                [product_id, days],
            )
        if rebuild:
            actor_last_rebuild(product_id)
    return changed


def actor_last_rebuild(product_id: int) -> None:
    """ActorLastDay of one product recomputed from ActorDay (PostgreSQL): one pass."""
    last, actor_day = ActorLastDay._meta.db_table, ActorDay._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {last} WHERE product_id = %s", [product_id])  # noqa: S608
        cursor.execute(
            f"INSERT INTO {last} (product_id, feature_key, actor, day) "  # noqa: S608 - table names
            f"SELECT product_id, feature_key, actor, MAX(day) FROM {actor_day} WHERE product_id = %s "
            "GROUP BY product_id, feature_key, actor "
            f"UNION ALL SELECT product_id, '', actor, MAX(day) FROM {actor_day} WHERE product_id = %s "
            "GROUP BY product_id, actor",
            [product_id, product_id],
        )


def _windows_from_last_days(product_id: int, end: date, windows: list[int]) -> dict:
    """The windows ending `end` from ActorLastDay: a pair counts in a window if its last day up
    to `end` lies in it. Pairs whose last day lies after `end` (events of tomorrow's local day, or
    a refresh of a past day) get their last day up to `end` from ActorDay (an index probe each;
    the '' rows over the product's feature keys). {key: {days: users}}."""
    last, actor_day = ActorLastDay._meta.db_table, ActorDay._meta.db_table
    low = end - timedelta(days=max(FUNNEL_WINDOWS))
    counts = ", ".join(["SUM(CASE WHEN day > %s THEN 1 ELSE 0 END)"] * len(windows))
    with connection.cursor() as cursor:
        keys: list[str] = []
        cursor.execute(
            f"SELECT 1 FROM {last} WHERE product_id = %s AND day > %s LIMIT 1",  # noqa: S608
            [product_id, end],
        )
        if cursor.fetchone():
            cursor.execute(
                f"SELECT DISTINCT feature_key FROM {actor_day} WHERE product_id = %s",  # noqa: S608
                [product_id],
            )
            keys = [k for (k,) in cursor.fetchall()]
        cursor.execute(
            f"SELECT feature_key, {counts} FROM ("  # noqa: S608 - table names and fixed fragments
            f"SELECT feature_key, day FROM {last} WHERE product_id = %s AND day > %s AND day <= %s "
            f"UNION ALL SELECT l.feature_key, (SELECT MAX(a.day) FROM {actor_day} a WHERE a.product_id = l.product_id "
            "AND a.actor = l.actor AND a.day <= %s AND a.feature_key = ANY(CASE WHEN l.feature_key = '' "
            "THEN %s::text[] ELSE ARRAY[l.feature_key]::text[] END)) "
            f"FROM {last} l WHERE l.product_id = %s AND l.day > %s"
            ") t GROUP BY feature_key HAVING SUM(CASE WHEN day > %s THEN 1 ELSE 0 END) > 0",
            [end - timedelta(days=d) for d in windows] + [product_id, low, end, end, keys, product_id, end, low],
        )
        rows = cursor.fetchall()
    return {row[0]: {days: row[n + 1] or 0 for n, days in enumerate(windows)} for row in rows}


def _name_from_key(key: str) -> str:
    return key.replace("_", " ").replace("-", " ").replace(".", " ").strip().capitalize()[:120]


def touched_days_mark(*, product_id: int, days: set[date]) -> list[date]:
    """Upsert (product, day) as pending in one statement; return the days that were not pending
    before (those need a rollup queued; the others already have one on its way)."""
    if not days:
        return []
    table = TouchedDay._meta.db_table
    now = timezone.now()
    values = ", ".join(["(%s, %s, %s, %s)"] * len(days))
    params: list = []
    for d in sorted(days):
        params += [product_id, d, True, now]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (product_id, day, pending, touched_at) VALUES {values} "  # noqa: S608
            "ON CONFLICT (product_id, day) DO UPDATE SET pending = TRUE, touched_at = EXCLUDED.touched_at "
            f"WHERE {table}.pending = FALSE RETURNING day",
            params,
        )
        rows = cursor.fetchall()
    return sorted(r[0] if isinstance(r[0], date) else date.fromisoformat(r[0]) for r in rows)
