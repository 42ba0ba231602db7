from django.apps import AppConfig


class BacklogConfig(AppConfig):
    name = "backlog"

    def ready(self):
        from . import search

        search.register()
        # Custom-field definitions are read from the cache by story writes (selectors.custom_fields_of);
        # keyed by product: their saves and deletes bump the product's generation.
        from pmhub.subscribers import subscribers_watch

        from .models import CustomField

        subscribers_watch("customfields", CustomField, lambda field: field.product_id, asked_on_emit=False)
        from pmhub.webhooks import webhook_events_register

        webhook_events_register(app=self.name, events={
            "story.created": "A story was created (one per story, also for imports).",
            "story.updated": "A story's fields or status changed.",
            "story.moved": "A story moved in the backlog order (its new rank).",
            "story.commented": "Someone commented on a story (ids only: read the text through the API).",
            "story.criteria_changed": "An acceptance criterion of a story was added, ticked or unticked "
                                      "(with the counts done and in all).",
            "epic.created": "An epic was created.",
            "epic.updated": "An epic's fields changed.",
        })
