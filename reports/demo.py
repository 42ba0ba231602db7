"""Demo data of the reports app: one weekly report for the demo user. Idempotent (get_or_create)."""

from .models import SECTION_KEYS, ReportRecipient, ReportSubscription


def seed(*, workspace, users) -> None:
    owner = users.get("demo") or next(iter(users.values()), None)
    if owner is None:
        return
    subscription, _ = ReportSubscription.objects.get_or_create(
        workspace=workspace, product=None, name="Weekly stakeholder update",
        defaults={"owner": owner, "cadence": "weekly", "weekday": 0, "hour": 8, "sections": list(SECTION_KEYS)})
    ReportRecipient.objects.get_or_create(subscription=subscription, email=owner.email, defaults={"user": owner})
