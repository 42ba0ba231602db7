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

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Max, Sum
from django.utils import timezone

from .models import (
    ActorDay,
    Feature,
    FeatureDaily,
    FeatureFirstUse,
    ProductDaily,
    TouchedDay,
    UsageEvent,
    WindowCount,
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
def rollup_range(*, product_id: int, first: date, last: date, tz_name: str) -> dict:
    """Recompute the rollups of the local days [first, last] of one product (a backfill, or the
    rebuild after a change of time zone). The statements are per span, not per day, except the
    ActorDay rebuild, which groups one day's events at a time (each day is cut at its own local
    midnight)."""
    if last < first:
        raise ValueError("last must not be before first")
    days = _days(first, last)
    _lock(product_id, days)
    tz = ZoneInfo(tz_name)
    TouchedDay.objects.filter(product_id=product_id, day__gte=first, day__lte=last).update(
        pending=False, rolled_up_at=timezone.now())

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
    span = ActorDay.objects.filter(product_id=product_id, day__gte=first, day__lte=last)
    keys = set(span.values_list("feature_key", flat=True).distinct())
    known = set(Feature.objects.filter(product_id=product_id, key__in=keys).values_list("key", flat=True))
    if keys - known:
        Feature.objects.bulk_create([Feature(product_id=product_id, key=k, name=_name_from_key(k))
                                     for k in sorted(keys - known)], ignore_conflicts=True)

    feature_daily, feature, product_daily = (FeatureDaily._meta.db_table, Feature._meta.db_table,
                                             ProductDaily._meta.db_table)
    FeatureDaily.objects.filter(product_id=product_id, day__gte=first, day__lte=last).delete()
    ProductDaily.objects.filter(product_id=product_id, day__gte=first, day__lte=last).delete()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {feature_daily} (product_id, feature_id, day, users, events, users_7d) "  # noqa: S608
            f"SELECT a.product_id, f.id, a.day, COUNT(*), SUM(a.events), 0 FROM {actor_day} a "
            f"JOIN {feature} f ON f.product_id = a.product_id AND f.key = a.feature_key "
            "WHERE a.product_id = %s AND a.day >= %s AND a.day <= %s GROUP BY a.product_id, f.id, a.day",
            [product_id, first, last],
        )
        cursor.execute(
            f"INSERT INTO {product_daily} (product_id, day, active_users, events, active_7d, computed_at) "  # noqa: S608
            f"SELECT product_id, day, COUNT(DISTINCT actor{_bytewise()}), SUM(events), 0, %s FROM {actor_day} "
            "WHERE product_id = %s AND day >= %s AND day <= %s GROUP BY product_id, day",
            [timezone.now(), product_id, first, last],
        )

    refreshed = _refresh_windows(product_id=product_id, first=first, last=last + timedelta(days=WINDOW - 1))
    daily = ProductDaily.objects.filter(product_id=product_id, day__gte=first, day__lte=last)
    totals = daily.aggregate(events=Sum("events"), peak=Max("active_users"))
    if connection.vendor == "postgresql":
        # The planner settings of _lock would outlive this function inside a caller's transaction.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem TO DEFAULT")
            cursor.execute("SET LOCAL enable_sort TO DEFAULT")
    # Distinct users of the whole span are not summed from the days (and not worth a distinct
    # count over the span here): the summary gives the busiest day's.
    return {"product_id": product_id, "first": first.isoformat(), "last": last.isoformat(),
            "active_users": totals["peak"] or 0, "events": totals["events"] or 0, "features": len(keys),
            "windows_refreshed": refreshed}


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
def windows_refresh(*, product_id: int, end: date) -> int:
    """Distinct users per feature and overall in the 30, 90 and 365 local days ending `end` (the
    dashboards' funnels), and in the 7 and 28 days ending `end` and ending one window earlier
    (the adoption table's current and previous windows, TABLE_WINDOWS), as WindowCount rows, in
    one pass over ActorDay: the last active day of each (feature, actor) and of each actor in the
    longest window, counted against each window's start, plus whether they were active in each
    previous window. Replaces the rows of `end` (and of the previous windows' ends) and prunes
    rows older than a week. Returns the number of rows written.

    Two refreshes of a product run one after the other (an advisory lock), so their delete and
    insert of the same `end` cannot interleave into duplicate rows."""
    _windows_lock(product_id)
    table = ActorDay._meta.db_table
    low = end - timedelta(days=max(FUNNEL_WINDOWS))
    windows = sorted(set(FUNNEL_WINDOWS) | set(TABLE_WINDOWS))
    counts = ", ".join(["SUM(CASE WHEN last > %s THEN 1 ELSE 0 END)"] * len(windows)
                       + [f"SUM(prev{w})" for w in TABLE_WINDOWS])
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
    mine = WindowCount.objects.filter(product_id=product_id)
    mine.filter(end=end).delete()
    mine.filter(end__lt=end - timedelta(days=WINDOW)).delete()
    for w in TABLE_WINDOWS:
        mine.filter(days=w, end=end - timedelta(days=w)).delete()
    made = []
    for row in rows:
        key = row[0]
        made += [WindowCount(product_id=product_id, end=end, days=days, feature_key=key, users=row[n + 1] or 0)
                 for n, days in enumerate(windows)]
        made += [WindowCount(product_id=product_id, end=end - timedelta(days=w), days=w, feature_key=key,
                             users=row[len(windows) + n + 1] or 0) for n, w in enumerate(TABLE_WINDOWS)]
    WindowCount.objects.bulk_create(made)
    return len(made)


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
