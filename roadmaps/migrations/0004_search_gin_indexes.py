"""GIN expression index for the header search on PostgreSQL (nothing on SQLite); see pmhub.search."""

from django.db import migrations

from pmhub.search import search_index_operation


class Migration(migrations.Migration):
    dependencies = [("roadmaps", "0003_roadmaps_version_for_optimistic_locking")]

    operations = [
        search_index_operation(app_label="roadmaps", model_name="initiative", fields=("title", "description"),
                               name="roadmaps_initiative_search_gin"),
    ]
