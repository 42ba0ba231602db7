"""The KPIs' measurement stamps (metrics.models.KpiMeasured, decision 2321): the table, the
triggers that write it, and a first stamp for every KPI."""

from django.db import migrations, models

POSTGRESQL = [
    "CREATE SEQUENCE metrics_kpimeasured_stamp_seq",
    """
    CREATE FUNCTION metrics_kpimeasured_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_TABLE_NAME = 'metrics_kpi' THEN
            INSERT INTO metrics_kpimeasured (kpi_id, stamp)
            SELECT k.id, nextval('metrics_kpimeasured_stamp_seq') FROM (SELECT DISTINCT id FROM new_rows) k
            ON CONFLICT (kpi_id) DO UPDATE SET stamp = EXCLUDED.stamp;
        ELSIF TG_OP = 'INSERT' THEN
            INSERT INTO metrics_kpimeasured (kpi_id, stamp)
            SELECT k.kpi_id, nextval('metrics_kpimeasured_stamp_seq') FROM (SELECT DISTINCT kpi_id FROM new_rows) k
            ON CONFLICT (kpi_id) DO UPDATE SET stamp = EXCLUDED.stamp;
        ELSIF TG_OP = 'DELETE' THEN
            INSERT INTO metrics_kpimeasured (kpi_id, stamp)
            SELECT k.kpi_id, nextval('metrics_kpimeasured_stamp_seq') FROM (SELECT DISTINCT kpi_id FROM old_rows) k
            ON CONFLICT (kpi_id) DO UPDATE SET stamp = EXCLUDED.stamp;
        ELSE
            INSERT INTO metrics_kpimeasured (kpi_id, stamp)
            SELECT k.kpi_id, nextval('metrics_kpimeasured_stamp_seq')
            FROM (SELECT kpi_id FROM old_rows UNION SELECT kpi_id FROM new_rows) k
            ON CONFLICT (kpi_id) DO UPDATE SET stamp = EXCLUDED.stamp;
        END IF;
        RETURN NULL;
    END $$
    """,
    "CREATE TRIGGER metrics_measurement_stamp_insert AFTER INSERT ON metrics_measurement "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION metrics_kpimeasured_stamp()",
    "CREATE TRIGGER metrics_measurement_stamp_update AFTER UPDATE ON metrics_measurement "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION metrics_kpimeasured_stamp()",
    "CREATE TRIGGER metrics_measurement_stamp_delete AFTER DELETE ON metrics_measurement "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION metrics_kpimeasured_stamp()",
    "CREATE TRIGGER metrics_kpi_stamp_insert AFTER INSERT ON metrics_kpi "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION metrics_kpimeasured_stamp()",
    "INSERT INTO metrics_kpimeasured (kpi_id, stamp) SELECT id, nextval('metrics_kpimeasured_stamp_seq') "
    "FROM metrics_kpi",
]
POSTGRESQL_DROP = [
    "DROP TRIGGER metrics_kpi_stamp_insert ON metrics_kpi",
    "DROP TRIGGER metrics_measurement_stamp_delete ON metrics_measurement",
    "DROP TRIGGER metrics_measurement_stamp_update ON metrics_measurement",
    "DROP TRIGGER metrics_measurement_stamp_insert ON metrics_measurement",
    "DROP FUNCTION metrics_kpimeasured_stamp()",
    "DROP SEQUENCE metrics_kpimeasured_stamp_seq",
]

_UPSERT = ("INSERT INTO metrics_kpimeasured (kpi_id, stamp) VALUES ({}, abs(random())) "
           "ON CONFLICT(kpi_id) DO UPDATE SET stamp = excluded.stamp;")
SQLITE = [
    f"CREATE TRIGGER metrics_measurement_stamp_insert AFTER INSERT ON metrics_measurement "
    f"BEGIN {_UPSERT.format('NEW.kpi_id')} END",
    f"CREATE TRIGGER metrics_measurement_stamp_update AFTER UPDATE ON metrics_measurement "
    f"BEGIN {_UPSERT.format('OLD.kpi_id')} {_UPSERT.format('NEW.kpi_id')} END",
    f"CREATE TRIGGER metrics_measurement_stamp_delete AFTER DELETE ON metrics_measurement "
    f"BEGIN {_UPSERT.format('OLD.kpi_id')} END",
    f"CREATE TRIGGER metrics_kpi_stamp_insert AFTER INSERT ON metrics_kpi BEGIN {_UPSERT.format('NEW.id')} END",
    "INSERT INTO metrics_kpimeasured (kpi_id, stamp) SELECT id, abs(random()) FROM metrics_kpi",
]
SQLITE_DROP = [f"DROP TRIGGER {name}" for name in (
    "metrics_kpi_stamp_insert", "metrics_measurement_stamp_delete", "metrics_measurement_stamp_update",
    "metrics_measurement_stamp_insert")]


def _run(statements: dict):
    def run(apps, schema_editor):
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)
    return run


class Migration(migrations.Migration):

    dependencies = [
        ("metrics", "0006_measurement_upload_raw_file_parsed_in_worker"),
    ]

    operations = [
        migrations.CreateModel(
            name="KpiMeasured",
            fields=[
                ("kpi_id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("stamp", models.BigIntegerField()),
            ],
        ),
        migrations.RunPython(_run({"postgresql": POSTGRESQL, "sqlite": SQLITE}),
                             _run({"postgresql": POSTGRESQL_DROP, "sqlite": SQLITE_DROP})),
    ]
