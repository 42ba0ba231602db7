"""Monthly partitions of the usage-events table on PostgreSQL (docs/decisions/1910-*.md).

`adoption_usageevent` is partitioned by RANGE (occurred_at), one partition per calendar month in
UTC, named `adoption_usageevent_pYYYY_MM`. There is deliberately no DEFAULT partition: with one,
PostgreSQL refuses `DETACH PARTITION ... CONCURRENTLY`, the only way to retire a month without
blocking ingestion. So every month an event may fall in must exist before it arrives:

- the migration creates the months of the existing data and [now - MAX_AGE, now + AHEAD];
- the beat task `adoption.tasks.event_partitions_maintain` (daily) creates the months up to
  AHEAD ahead and retires the months older than ADOPTION_EVENT_RETENTION_MONTHS (0 = keep all);
- an insert that still finds no partition (a beat that has not run for months, or a clock
  frozen far ahead in a test) creates the batch's months and retries once (services).

On SQLite (`make run`) the table is a plain table and every function here is a no-op.
"""

from datetime import UTC, date, datetime

from django.conf import settings
from django.db import connection, transaction

PARENT = "adoption_usageevent"
AHEAD = 3  # months created ahead of the current one
# Ingestion accepts events up to two years old (ingestion.MAX_AGE): their months must exist.
BACK = 25


def enabled(conn=None) -> bool:
    conn = conn or connection
    if conn.vendor != "postgresql":
        return False
    with conn.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [PARENT])
        row = cursor.fetchone()
    return bool(row and row[0] == "p")


def month_of(value: date | datetime) -> date:
    if isinstance(value, datetime):
        value = value.astimezone(UTC)
    return date(value.year, value.month, 1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def name_of(month: date) -> str:
    return f"{PARENT}_p{month.year:04d}_{month.month:02d}"


def months_between(first: date, last: date) -> list[date]:
    out, month = [], month_of(first)
    while month <= month_of(last):
        out.append(month)
        month = add_months(month, 1)
    return out


def existing(conn=None) -> dict[str, date]:
    """Attached partitions: {name: first day of its month}."""
    conn = conn or connection
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(%s) ORDER BY c.relname", [PARENT])
        names = [r[0] for r in cursor.fetchall()]
    out = {}
    for name in names:
        try:
            year, month = name.rsplit("_p", 1)[1].split("_")
            out[name] = date(int(year), int(month), 1)
        except (IndexError, ValueError):
            continue  # not one of ours (attached by hand): left alone
    return out


def create_sql(month: date) -> str:
    """DDL of one month's partition (UTC bounds; the indexes come from the parent)."""
    start, end = month, add_months(month, 1)
    return (f'CREATE TABLE "{name_of(month)}" PARTITION OF "{PARENT}" '
            f"FOR VALUES FROM ('{start.isoformat()} 00:00:00+00') TO ('{end.isoformat()} 00:00:00+00')")


def ensure(months, conn=None) -> list[str]:
    """Create the partitions of the given months that do not exist yet; return their names."""
    conn = conn or connection
    have = set(existing(conn).values())
    made = []
    for month in sorted({month_of(m) for m in months} - have):
        with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
            cursor.execute("SELECT to_regclass(%s)", [name_of(month)])
            if cursor.fetchone()[0] is not None:
                continue  # detached by an operator and kept (an archive): not re-attached behind their back
            cursor.execute(create_sql(month))
        made.append(name_of(month))
    return made


def ensure_around(now: datetime, conn=None) -> list[str]:
    """The months ingestion may write: [now - BACK, now + AHEAD], minus the expired ones."""
    current = month_of(now)
    first = add_months(current, -BACK)
    horizon = retention_horizon(now)
    if horizon is not None and horizon > first:
        first = horizon
    return ensure(months_between(first, add_months(current, AHEAD)), conn)


def retention_horizon(now: datetime) -> date | None:
    """First month kept under ADOPTION_EVENT_RETENTION_MONTHS (None: keep everything). With 12,
    in any day of December 2026 the months from December 2025 are kept."""
    months = int(getattr(settings, "ADOPTION_EVENT_RETENTION_MONTHS", 0) or 0)
    if months <= 0:
        return None
    return add_months(month_of(now), -months)


def expired(now: datetime, conn=None) -> list[str]:
    horizon = retention_horizon(now)
    if horizon is None:
        return []
    return [name for name, month in existing(conn).items() if month < horizon]


def detach(name: str, *, concurrently: bool = True, drop: bool = False, conn=None) -> None:
    """Detach one partition from the events table (and drop it if asked).

    CONCURRENTLY (PostgreSQL 14+) takes only a SHARE UPDATE EXCLUSIVE lock on the parent, so
    inserts and reads go on while it runs; it cannot run inside a transaction block, so it needs
    an autocommit connection (a management command or a Celery task, never a request)."""
    conn = conn or connection
    if name not in existing(conn):
        raise ValueError(f"{name} is not a partition of {PARENT}")
    mode = " CONCURRENTLY" if concurrently else ""
    with conn.cursor() as cursor:
        cursor.execute(f'ALTER TABLE "{PARENT}" DETACH PARTITION "{name}"{mode}')
        if drop:
            cursor.execute(f'DROP TABLE "{name}"')


def maintain(now: datetime, *, conn=None) -> dict:
    """The daily job: create the coming months, retire the expired ones (detach concurrently,
    then drop)."""
    conn = conn or connection
    if not enabled(conn):
        return {"created": [], "dropped": []}
    created = ensure_around(now, conn)
    dropped = []
    for name in expired(now, conn):
        detach(name, concurrently=not conn.in_atomic_block, drop=True, conn=conn)
        dropped.append(name)
    return {"created": created, "dropped": dropped}


def is_missing_partition(error: Exception) -> bool:
    """An insert whose occurred_at falls in no partition (SQLSTATE 23514, "no partition of
    relation ... found for row")."""
    cause = getattr(error, "__cause__", None) or error
    return getattr(cause, "pgcode", None) == "23514" and "no partition" in str(cause)
