"""Demo data of the reports app: one weekly report for the demo user, one sent run of it (so the
run page has something to show) and one webhook endpoint. Idempotent (get_or_create)."""

from pmhub.webhooks import webhook_event_names

from .models import SECTION_KEYS, ReportRecipient, ReportRun, ReportSubscription, WebhookEndpoint

DEMO_PERIOD = "demo"


def seed(*, workspace, users) -> None:
    owner = users.get("demo") or next(iter(users.values()), None)
    if owner is None:
        return
    subscription, _ = ReportSubscription.objects.get_or_create(
        workspace=workspace, product=None, name="Weekly stakeholder update",
        defaults={"owner": owner, "cadence": "weekly", "weekday": 0, "hour": 8, "sections": list(SECTION_KEYS)})
    ReportRecipient.objects.get_or_create(subscription=subscription, email=owner.email, defaults={"user": owner})
    if not ReportRun.objects.filter(subscription=subscription, period=DEMO_PERIOD).exists():
        from .services import report_build

        # Built directly rather than through run_create: the demo must not e-mail anybody.
        ReportRun.objects.create(subscription=subscription, period=DEMO_PERIOD, triggered_by=owner, status="sent",
                                 data=report_build(subscription=subscription, period=DEMO_PERIOD))
    WebhookEndpoint.objects.get_or_create(
        workspace=workspace, url="https://hooks.example.com/pmhub",
        defaults={"description": "Team chat bridge (demo)", "events": webhook_event_names()[:3], "created_by": owner})
