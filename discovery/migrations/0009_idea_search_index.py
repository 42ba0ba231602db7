"""GIN index for the header search over ideas (PostgreSQL only), like 0002's for companies and insights."""

from django.db import migrations

from pmhub.search import search_index_operation


class Migration(migrations.Migration):
    dependencies = [("discovery", "0008_idea_demand_index")]

    operations = [
        search_index_operation(app_label="discovery", model_name="idea", fields=("title", "description"),
                               name="discovery_idea_search_gin"),
    ]
