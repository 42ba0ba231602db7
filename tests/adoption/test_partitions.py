"""Usage events partitioned by month on PostgreSQL: the table's shape, rows landing in their
month, partitions made on demand and by the daily job, retention, a detach that does not block
writes, and the migration from the plain table losing no row."""

import threading
import time
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, connections
from django.db.migrations.executor import MigrationExecutor

from adoption import partitions, tasks
from adoption.models import IngestionKey, UsageEvent
from adoption.services import events_ingest

from .factories import event, make_ingestion_key

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="partitions are PostgreSQL only")


def _key(product) -> IngestionKey:
    make_ingestion_key(product)
    return IngestionKey.objects.select_related("product__workspace").get(product=product)


def _partition_of(event_id: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM adoption_usageevent WHERE event_id = %s", [event_id])
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_events_table_is_partitioned_by_month_with_time_in_the_key_and_a_brin_index():
    assert partitions.enabled()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_partkeydef(to_regclass('adoption_usageevent'))")
        assert cursor.fetchone()[0] == "RANGE (occurred_at)"
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'adoption_usageevent'")
        defs = dict(cursor.fetchall())
    assert "(id, occurred_at)" in defs["adoption_usageevent_pkey"]
    assert "USING brin (occurred_at)" in defs["adoption_event_time_brin"]
    assert "(product_id, event_id, occurred_at)" in defs["adoption_event_unique_id"]
    now = datetime.now(UTC)
    names = partitions.existing()
    # The months ingestion accepts (two years back) to three months ahead.
    assert partitions.name_of(partitions.add_months(partitions.month_of(now), 3)) in names
    assert partitions.name_of(partitions.add_months(partitions.month_of(now), -24)) in names


@pytest.mark.django_db
def test_ingested_events_land_in_their_months_partition_and_a_resent_batch_is_stored_once(product):
    key = _key(product)
    with time_machine.travel("2026-11-25T12:00:00Z", tick=False):
        batch = [event(1, at="2026-10-31T23:59:59Z"), event(2, at="2026-11-01T00:00:00Z"),
                 event(3, at="2026-11-01T00:30:00+01:00")]  # 23:30 UTC on 31 October
        events_ingest(key=key, items=batch)
        events_ingest(key=key, items=batch)
    assert UsageEvent.objects.filter(product=product).count() == 3
    assert [_partition_of(e) for e in ("e1", "e2", "e3")] == [
        "adoption_usageevent_p2026_10", "adoption_usageevent_p2026_11", "adoption_usageevent_p2026_10"]


@pytest.mark.django_db
def test_an_event_in_a_month_without_partition_creates_it_and_is_stored(product):
    key = _key(product)
    later = partitions.add_months(partitions.month_of(datetime.now(UTC)), 8)
    assert partitions.name_of(later) not in partitions.existing()
    with time_machine.travel(datetime(later.year, later.month, 10, 12, tzinfo=UTC), tick=False):
        result = events_ingest(key=key, items=[event(1, at=f"{later.isoformat()}T09:00:00Z")])
    assert result["accepted"] == 1
    assert _partition_of("e1") == partitions.name_of(later)


@pytest.mark.django_db
def test_daily_job_creates_coming_months_and_drops_expired_ones_per_retention(product, settings):
    key = _key(product)
    with time_machine.travel("2026-11-25T12:00:00Z", tick=False):
        events_ingest(key=key, items=[event(1, at="2026-03-10T10:00:00Z"), event(2, at="2026-09-10T10:00:00Z")])
    settings.ADOPTION_EVENT_RETENTION_MONTHS = 0
    with time_machine.travel("2027-06-15T12:00:00Z", tick=False):
        kept = tasks.event_partitions_maintain()
        assert kept["dropped"] == []
        assert "adoption_usageevent_p2027_09" in partitions.existing()  # three months ahead
        settings.ADOPTION_EVENT_RETENTION_MONTHS = 12  # keep June 2026 onwards
        done = tasks.event_partitions_maintain()
    assert "adoption_usageevent_p2026_03" in done["dropped"]
    assert "adoption_usageevent_p2026_06" not in done["dropped"]
    names = partitions.existing()
    assert "adoption_usageevent_p2026_05" not in names and "adoption_usageevent_p2026_06" in names
    assert list(UsageEvent.objects.filter(product=product).values_list("event_id", flat=True)) == ["e2"]


def test_retention_horizon_counts_whole_months(settings):
    settings.ADOPTION_EVENT_RETENTION_MONTHS = 12
    assert partitions.retention_horizon(datetime(2026, 12, 31, 23, tzinfo=UTC)) == date(2025, 12, 1)
    assert partitions.retention_horizon(datetime(2026, 1, 1, tzinfo=UTC)) == date(2025, 1, 1)
    settings.ADOPTION_EVENT_RETENTION_MONTHS = 0
    assert partitions.retention_horizon(datetime(2026, 1, 1, tzinfo=UTC)) is None


@pytest.mark.django_db(transaction=True)
def test_detach_concurrently_keeps_the_rows_in_a_table_of_their_own(product):
    key = _key(product)
    with time_machine.travel("2026-11-25T12:00:00Z", tick=False):
        events_ingest(key=key, items=[event(1, at="2026-08-10T10:00:00Z"), event(2, at="2026-09-10T10:00:00Z")])
    call_command("adoption_partitions", detach="adoption_usageevent_p2026_08")
    try:
        assert "adoption_usageevent_p2026_08" not in partitions.existing()
        assert list(UsageEvent.objects.values_list("event_id", flat=True)) == ["e2"]
        with connection.cursor() as cursor:
            cursor.execute("SELECT event_id FROM adoption_usageevent_p2026_08")
            assert cursor.fetchall() == [("e1",)]
        # The daily job leaves an operator's detached month alone (an archive, not re-attached).
        assert "adoption_usageevent_p2026_08" not in partitions.ensure([date(2026, 8, 1)])
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS adoption_usageevent_p2026_08")
        partitions.ensure([date(2026, 8, 1)])


@pytest.mark.django_db(transaction=True)
def test_migration_moves_every_row_of_the_plain_table_into_the_partitions():
    executor = MigrationExecutor(connection)
    before = [("adoption", "0004_adoption_version_for_optimistic_locking")]
    after = [key for key in executor.loader.graph.leaf_nodes() if key[0] == "adoption"]  # back to the latest
    executor.migrate(before)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass('adoption_usageevent')")
            assert cursor.fetchone()[0] == "r"
            cursor.execute(
                "INSERT INTO adoption_usageevent (product_id, event_id, feature_key, actor, occurred_at, "
                "properties, received_at) SELECT 1 + g % 3, 'old-' || g, 'f' || g % 5, 'u' || g % 50, "
                "TIMESTAMPTZ '2023-01-01' + g * INTERVAL '97 minutes', jsonb_build_object('n', g), now() "
                "FROM generate_series(1, 5000) g")
            cursor.execute("SELECT COUNT(*), MAX(id), SUM(hashtext(event_id || occurred_at::text || properties::text)) "
                           "FROM adoption_usageevent")
            old = cursor.fetchone()
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(after)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*), MAX(id), SUM(hashtext(event_id || occurred_at::text || properties::text)) "
                       "FROM adoption_usageevent")
        assert cursor.fetchone() == old
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass('adoption_usageevent')")
        assert cursor.fetchone()[0] == "p"
    assert "adoption_usageevent_p2023_01" in partitions.existing()  # the old rows' months were made
    assert MigrationExecutor(connection).migration_plan(after) == []  # every later migration re-applied
    made = UsageEvent.objects.create(product_id=1, event_id="new", feature_key="f", actor="a",
                                     occurred_at=datetime.now(UTC))
    assert made.id == old[1] + 1  # the id sequence goes on after the copied rows


def _raw_connection():
    """A second session on the test database (psycopg2, outside Django's connection handling)."""
    import psycopg2

    s = connection.settings_dict
    return psycopg2.connect(dbname=s["NAME"], user=s["USER"], password=s["PASSWORD"], host=s["HOST"],
                            port=s["PORT"] or 5432)


def _wait_for_detach_to_wait(probe) -> None:
    deadline = time.monotonic() + 30
    with probe.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE query LIKE %s AND pid <> pg_backend_pid()",
                           ["%DETACH PARTITION%"])
            row = cursor.fetchone()
            if row and row[0] == "Lock":
                return
            time.sleep(0.05)
    raise AssertionError("the detach never started waiting for the open transaction")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("concurrently", [True, False], ids=["concurrently", "plain-detach-control"])
def test_a_detach_waiting_for_an_open_transaction_does_not_block_ingestion(product, concurrently):
    """Without downtime: while a month is being detached (the detach waits for a transaction that
    still reads the events table, a long report), batches of other months are stored. The plain
    DETACH (ACCESS EXCLUSIVE on the table) is the control: there the same batch waits until
    lock_timeout, so the test can tell the two apart. Rows and the month's own table as in the
    test above."""
    from django.db import OperationalError

    key = _key(product)
    with time_machine.travel("2026-11-25T12:00:00Z", tick=False):
        events_ingest(key=key, items=[event(1, at="2026-08-10T10:00:00Z"), event(2, at="2026-09-10T10:00:00Z")])
    reader, probe = _raw_connection(), _raw_connection()
    probe.autocommit = True
    errors: list = []

    def detach():
        try:
            partitions.detach("adoption_usageevent_p2026_08", concurrently=concurrently)
        except Exception as exc:  # reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=detach)
    try:
        with reader.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM adoption_usageevent")  # the open transaction's snapshot
        thread.start()
        _wait_for_detach_to_wait(probe)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")
        try:
            with time_machine.travel("2026-11-25T12:05:00Z", tick=False):
                if concurrently:
                    events_ingest(key=key, items=[event(3, at="2026-09-11T10:00:00Z")])
                    assert UsageEvent.objects.filter(event_id="e3").exists()
                    assert thread.is_alive()  # stored while the detach was still under way
                else:
                    with pytest.raises(OperationalError, match="lock timeout"):
                        events_ingest(key=key, items=[event(3, at="2026-09-11T10:00:00Z")])
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = 0")
        reader.commit()
        thread.join(60)
        assert not thread.is_alive() and errors == []
        assert "adoption_usageevent_p2026_08" not in partitions.existing()
        assert sorted(UsageEvent.objects.values_list("event_id", flat=True)) == (["e2", "e3"] if concurrently
                                                                                 else ["e2"])
    finally:
        reader.close()
        probe.close()
        thread.join(60)
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS adoption_usageevent_p2026_08")
        partitions.ensure([date(2026, 8, 1)])
