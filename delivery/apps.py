from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "delivery"

    def ready(self):
        from pmhub.webhooks import webhook_events_register

        webhook_events_register(app=self.name, events={
            "release.scope_changed": "Stories came into or left a release's scope (with its total points).",
            "iteration.changed": "An iteration's fields changed, or a story was planned into or taken out of it "
                                 "(`action` says which).",
        })

        from backlog.signals import stories_created, story_status_changed

        from .receivers import record_created_stories, record_status_event

        story_status_changed.connect(record_status_event, dispatch_uid="delivery.record_status_event")
        stories_created.connect(record_created_stories, dispatch_uid="delivery.record_created_stories")

        from django.db.backends.signals import connection_created

        connection_created.connect(_sqlite_functions, dispatch_uid="delivery.sqlite_functions")


def _sqlite_functions(sender, connection, **kwargs):
    """The embedded default (SQLite) gets the time-zone function PostgreSQL has built in."""
    if connection.vendor == "sqlite":
        from .selectors import sqlite_local_midnight_after

        connection.connection.create_function("pmhub_local_midnight_after", 2, sqlite_local_midnight_after,
                                              deterministic=True)
