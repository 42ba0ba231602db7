"""pg_trgm and GIN trigram indexes for duplicate suggestions (PostgreSQL only; nothing on SQLite):
ideas by title, insights by text. See docs/decisions/1602-duplicate-scoring.md."""

from django.db import migrations

INDEXES = [
    ("discovery_idea", "title", "discovery_idea_title_trgm"),
    ("discovery_insight", "text", "discovery_insight_text_trgm"),
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table, column, name in INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({column} gin_trgm_ops)")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for _, _, name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("discovery", "0006_shipped_mail")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
