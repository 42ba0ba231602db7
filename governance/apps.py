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
            "governance.statement.revised": "A business impact statement was written or revised (a new revision).",
            "governance.statement.submitted": "A business impact statement was submitted for approval.",
            "governance.statement.decided": "An approver approved or rejected a business impact statement.",
            "governance.launch.changed": "A release's launch checklist changed (item added, ticked, reopened ...).",
            "governance.launch.override": "A release shipped with open required launch items (the reason is kept).",
            "governance.lifecycle.changed": "A product moved to another lifecycle stage.",
            "governance.lifecycle.proposed": "PMHub proposed a lifecycle stage for a product from its evidence.",
            "governance.portfolio.decided": "The portfolio decided on an initiative (fund, defer or stop; a reason).",
        })

        from roadmaps.guards import initiative_status_guard_register, release_ship_guard_register

        from .guards import initiative_needs_approved_statement, release_needs_launch_readiness

        initiative_status_guard_register(initiative_needs_approved_statement)
        release_ship_guard_register(release_needs_launch_readiness)

        from pmhub.panels import panel_register

        panel_register(place="change_requests", template="governance/_change_request_statements.html",
                       context=_change_request_statements)


def _change_request_statements(release, request):
    """The release page's panel: each change request's business impact statement (its status, a
    link to write, submit or decide it), in one query."""
    from .models import ImpactStatement
    from .selectors import change_requests_with_statements

    rows = change_requests_with_statements(release=release)
    return {"cr_statements": rows, "statement_labels": dict(ImpactStatement.Status.choices)} if rows else None
