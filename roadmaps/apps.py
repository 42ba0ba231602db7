from django.apps import AppConfig


class RoadmapsConfig(AppConfig):
    name = "roadmaps"

    def ready(self):
        from . import search

        search.register()
        from pmhub.webhooks import webhook_events_register

        webhook_events_register(app=self.name, events={
            "initiative.changed": "An initiative was created, changed, moved or deleted (`action` says which).",
        })
