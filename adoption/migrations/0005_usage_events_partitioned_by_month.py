"""Usage events partitioned by month on PostgreSQL (docs/decisions/1910-usage-events-partitioned-by-month.md).

PostgreSQL: the plain table is renamed aside, a table PARTITION BY RANGE (occurred_at) takes its
name with the primary key (id, occurred_at), the unique key (product_id, event_id, occurred_at),
the (product_id, occurred_at) B-tree and a BRIN index on occurred_at; the months of the existing
rows and [now - 25 months, now + 3 months] get a partition each; every row is copied over in the
same transaction (the count is checked) and the old table is dropped. Ids keep their values and
the id sequence continues after the highest.

Other databases (SQLite for `make run`): a plain table; only the unique key changes.

The SQL is written out here rather than imported from adoption.partitions, so this migration
keeps doing what it did when that module changes.
"""

from datetime import UTC, date, datetime

from django.db import migrations, models

NEW_UNIQUE = models.UniqueConstraint(fields=("product", "event_id", "occurred_at"), name="adoption_event_unique_id")
COLUMNS = "id, product_id, event_id, feature_key, actor, occurred_at, properties, received_at"


def _month(year: int, month: int) -> date:
    return date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def _months(first: date, last: date) -> list[date]:
    out, m = [], date(first.year, first.month, 1)
    while m <= last:
        out.append(m)
        m = _month(m.year, m.month + 1)
    return out


def _partition(cursor, table: str, month: date) -> None:
    end = _month(month.year, month.month + 1)
    cursor.execute(
        f'CREATE TABLE "{table}_p{month.year:04d}_{month.month:02d}" PARTITION OF "{table}" '
        f"FOR VALUES FROM ('{month.isoformat()} 00:00:00+00') TO ('{end.isoformat()} 00:00:00+00')")


class AddConstraintUnlessPostgres(migrations.AddConstraint):
    """The new unique key on a plain table; on PostgreSQL the partitioned table is created with it."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


def forwards(apps, schema_editor):
    UsageEvent = apps.get_model("adoption", "UsageEvent")
    if schema_editor.connection.vendor != "postgresql":
        return
    t = UsageEvent._meta.db_table
    with schema_editor.connection.cursor() as c:
        c.execute(f'ALTER TABLE "{t}" RENAME TO "{t}_unpartitioned"')
        c.execute(f'ALTER TABLE "{t}_unpartitioned" RENAME CONSTRAINT "{t}_pkey" TO "{t}_unpartitioned_pkey"')
        c.execute('DROP INDEX "adoption_event_product_time"')
        c.execute(f'SELECT COUNT(*), MAX(id), MIN(occurred_at), MAX(occurred_at) FROM "{t}_unpartitioned"')  # noqa: S608
        count, top, low, high = c.fetchone()
        # The identity's sequence goes with the identity; a plain sequence owned by the new id
        # column replaces it (identity columns on partitioned tables need PostgreSQL 17).
        c.execute(f'ALTER TABLE "{t}_unpartitioned" ALTER COLUMN id DROP IDENTITY IF EXISTS')
        c.execute(f'CREATE SEQUENCE IF NOT EXISTS "{t}_id_seq" AS bigint')
        c.execute(
            f'CREATE TABLE "{t}" ('
            f"id bigint NOT NULL DEFAULT nextval('{t}_id_seq'), "
            "product_id bigint NOT NULL, "
            "event_id varchar(100) NOT NULL, feature_key varchar(100) NOT NULL, actor varchar(100) NOT NULL, "
            "occurred_at timestamp with time zone NOT NULL, properties jsonb NOT NULL, "
            "received_at timestamp with time zone NOT NULL, "
            f'CONSTRAINT "{t}_pkey" PRIMARY KEY (id, occurred_at), '
            'CONSTRAINT "adoption_event_unique_id" UNIQUE (product_id, event_id, occurred_at)'
            ") PARTITION BY RANGE (occurred_at)")
        c.execute(f'ALTER SEQUENCE "{t}_id_seq" OWNED BY "{t}".id')
        c.execute(f'CREATE INDEX "adoption_event_product_time" ON "{t}" (product_id, occurred_at)')
        c.execute(f'CREATE INDEX "adoption_event_time_brin" ON "{t}" USING brin (occurred_at)')
        now = datetime.now(UTC)
        first, last = _month(now.year, now.month - 25), _month(now.year, now.month + 3)
        if low is not None:
            low, high = low.astimezone(UTC), high.astimezone(UTC)
            first, last = min(first, date(low.year, low.month, 1)), max(last, date(high.year, high.month, 1))
        for month in _months(first, last):
            _partition(c, t, month)
        if count:
            c.execute(f'INSERT INTO "{t}" ({COLUMNS}) SELECT {COLUMNS} FROM "{t}_unpartitioned"')  # noqa: S608
            if c.rowcount != count:
                raise RuntimeError(f"copied {c.rowcount} of {count} usage events; nothing changed")
            c.execute(f"SELECT setval('{t}_id_seq', %s)", [top])
        c.execute(f'DROP TABLE "{t}_unpartitioned"')


def backwards(apps, schema_editor):
    UsageEvent = apps.get_model("adoption", "UsageEvent")
    if schema_editor.connection.vendor != "postgresql":
        return
    t = UsageEvent._meta.db_table
    with schema_editor.connection.cursor() as c:
        c.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [t])
        if c.fetchone()[0] != "p":
            return
        c.execute(f'ALTER TABLE "{t}" RENAME TO "{t}_partitioned"')
        c.execute(f'ALTER TABLE "{t}_partitioned" RENAME CONSTRAINT "{t}_pkey" TO "{t}_partitioned_pkey"')
        c.execute(f'ALTER TABLE "{t}_partitioned" RENAME CONSTRAINT "adoption_event_unique_id" TO "{t}_p_unique"')
        c.execute('ALTER INDEX "adoption_event_product_time" RENAME TO "adoption_event_product_time_p"')
        c.execute(f'ALTER SEQUENCE "{t}_id_seq" OWNED BY NONE')
        c.execute(
            f'CREATE TABLE "{t}" (id bigint NOT NULL DEFAULT nextval(\'{t}_id_seq\') PRIMARY KEY, '
            "product_id bigint NOT NULL, event_id varchar(100) NOT NULL, feature_key varchar(100) NOT NULL, "
            "actor varchar(100) NOT NULL, occurred_at timestamp with time zone NOT NULL, "
            "properties jsonb NOT NULL, received_at timestamp with time zone NOT NULL)")
        c.execute(f'ALTER SEQUENCE "{t}_id_seq" OWNED BY "{t}".id')
        # A re-sent event stored twice (same id, another time) keeps its first copy.
        c.execute(f'INSERT INTO "{t}" ({COLUMNS}) SELECT DISTINCT ON (product_id, event_id) {COLUMNS} '  # noqa: S608
                  f'FROM "{t}_partitioned" ORDER BY product_id, event_id, occurred_at')
        c.execute(f'DROP TABLE "{t}_partitioned"')
        c.execute(f'CREATE INDEX "adoption_event_product_time" ON "{t}" (product_id, occurred_at)')


class Migration(migrations.Migration):

    dependencies = [
        ("adoption", "0004_adoption_version_for_optimistic_locking"),
    ]

    # Backwards, RemoveConstraint's reverse puts the old unique key back on the plain table.
    operations = [
        migrations.RemoveConstraint(model_name="usageevent", name="adoption_event_unique_id"),
        AddConstraintUnlessPostgres(model_name="usageevent", constraint=NEW_UNIQUE),
        migrations.RunPython(forwards, backwards),
    ]
