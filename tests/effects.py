"""What a write leaves behind, read back from the database: its activity lines and the webhook
deliveries it put in the outbox (through a real endpoint subscribed to every registered event)."""

from pmhub.models import Activity
from pmhub.webhooks import webhook_event_names


def subscribe_all(*, workspace, admin):
    """A webhook endpoint of the workspace subscribed to every event (nothing is sent in tests:
    deliveries wait in the outbox until commit, which a test transaction never reaches)."""
    from reports.services import webhook_endpoint_create

    return webhook_endpoint_create(user=admin, workspace=workspace, url="https://hooks.test/in",
                                   events=webhook_event_names())


def emitted(workspace) -> list[tuple[str, dict]]:
    from reports.models import WebhookDelivery

    return [(d.event, d.payload) for d in
            WebhookDelivery.objects.filter(endpoint__workspace=workspace).order_by("id")]


def verbs(workspace) -> list[str]:
    return list(Activity.objects.filter(workspace=workspace).order_by("id").values_list("verb", flat=True))
