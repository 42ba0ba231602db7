"""GIN expression index for the header search on PostgreSQL (nothing on SQLite); see pmhub.search."""

from django.db import migrations

from pmhub.search import search_index_operation


class Migration(migrations.Migration):
    dependencies = [("governance", "0001_initial")]

    operations = [
        search_index_operation(app_label="governance", model_name="risk", fields=("title", "description", "mitigation"),
                               name="governance_risk_search_gin"),
    ]
