"""Demo data of the integrations app: a paused Slack channel whose URL points nowhere reachable (the
demo must never post on `make run`), with a filled delivery log. Idempotent."""

from datetime import timedelta

from django.utils import timezone

from pmhub.secretbox import mask_url, seal
from reports.models import WebhookDelivery, WebhookEndpoint

from .models import Channel

DEMO_URL = "https://hooks.slack.com/services/T0DEMO/B0DEMO/demo-not-a-real-hook"
EVENTS = ["story.created", "story.updated", "report.published"]


def seed(*, workspace, users) -> None:
    owner = users.get("demo") or next(iter(users.values()), None)
    if owner is None or Channel.objects.filter(workspace=workspace, name="#product-updates").exists():
        return
    from roadmaps.models import Product

    product = Product.objects.filter(workspace=workspace).order_by("id").first()
    # Paused from the start: the sweep and the worker never pick up a paused channel's deliveries.
    endpoint = WebhookEndpoint.objects.create(workspace=workspace, kind="slack", url="", events=EVENTS,
                                              description="#product-updates", active=False, created_by=owner)
    Channel.objects.create(workspace=workspace, product=product, endpoint=endpoint, kind="slack",
                           name="#product-updates", url_sealed=seal(DEMO_URL), url_hint=mask_url(DEMO_URL),
                           created_by=owner)
    now = timezone.now()
    site = "http://127.0.0.1:8000"
    rows = [
        ("channel.test", "success", 1, 200, 143, "", {"headline": "Test message",
                                                      "title": "PMHub can post to #product-updates"}),
        ("story.created", "success", 1, 200, 167, "", {"headline": "Story created", "title": "Export roadmap as PDF"}),
        ("story.updated", "success", 2, 200, 189, "", {"headline": "Story updated", "title": "Export roadmap as PDF"}),
        ("report.published", "failed", 7, 404, 98, "HTTP 404", {"headline": "Progress report published",
                                                                 "title": "Weekly stakeholder update"}),
    ]
    WebhookDelivery.objects.bulk_create([
        WebhookDelivery(endpoint=endpoint, event=event, status=status, attempts=attempts, response_status=code,
                        response_ms=ms, error=error, created_at=now - timedelta(hours=4 - i),
                        last_attempt_at=now - timedelta(hours=4 - i), next_attempt_at=now - timedelta(hours=4 - i),
                        payload={**summary, "facts": [], "context": workspace.name, "url": site + "/",
                                 "product_id": product.id if product else None})
        for i, (event, status, attempts, code, ms, error, summary) in enumerate(rows)])
