from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Governance"

    def ready(self):
        from pmhub.webhooks import webhook_events_register

        from . import search

        search.register()
        webhook_events_register(app=self.name, events={
            "governance.risk.created": "A risk or issue was logged in a product's register.",
            "governance.risk.updated": "A risk or issue changed (score, status, owner, links ...).",
            "governance.risk.above_appetite": "An open risk or issue scored above its product's risk appetite.",
            "governance.issue.note_added": "A decision was recorded in an issue's mediation log.",
            "governance.appetite.changed": "A product's risk appetite changed.",
        })
