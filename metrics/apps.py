from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "metrics"

    def ready(self):
        from . import search

        search.register()
        from pmhub.webhooks import webhook_events_register

        webhook_events_register(app=self.name, events={
            "kpi.created": "A KPI was created.",
            "kpi.health_changed": "A KPI's health changed (for example from on track to off track).",
            "kpi.measured": "Measurements of a KPI were recorded or deleted (its current value may have changed).",
        })
