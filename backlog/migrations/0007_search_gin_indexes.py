"""GIN expression indexes for the header search on PostgreSQL (nothing on SQLite); the expression is
pmhub.search.search_vector of the same fields, so the search's WHERE uses them."""

from django.db import migrations

from pmhub.search import search_index_operation


class Migration(migrations.Migration):
    dependencies = [("backlog", "0006_backlog_version_for_optimistic_locking")]

    operations = [
        search_index_operation(app_label="backlog", model_name="story", fields=("title", "description"),
                               name="backlog_story_search_gin"),
        search_index_operation(app_label="backlog", model_name="epic", fields=("title", "description"),
                               name="backlog_epic_search_gin"),
        search_index_operation(app_label="backlog", model_name="feedback", fields=("customer", "quote"),
                               name="backlog_feedback_search_gin"),
    ]
