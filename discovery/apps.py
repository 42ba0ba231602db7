from django.apps import AppConfig


class DiscoveryConfig(AppConfig):
    name = "discovery"
    verbose_name = "Discovery"

    def ready(self):
        from . import search

        search.register()
        from pmhub.webhooks import webhook_events_register

        webhook_events_register(app=self.name, events={
            "discovery.company.created": "A company was added (by hand, the API, an upsert or an import).",
            "discovery.company.updated": "A company's fields changed.",
            "discovery.insight.created": "An insight was filed by hand.",
            "discovery.insights.filed": "A batch of insights arrived (API, e-mail, form or CSV): product and count.",
            "discovery.insight.updated": "An insight's state, owner or text changed.",
        })
        from backlog.demand import demand_provider_register

        from .selectors import story_demand

        demand_provider_register("discovery.highlights", story_demand)
