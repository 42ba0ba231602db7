"""Demo data of the integrations app: a paused Slack channel whose URL points nowhere reachable (the
demo must never post on `make run`), with a filled delivery log. Idempotent."""

from datetime import timedelta

from django.utils import timezone

from pmhub.secretbox import mask_url, seal
from reports.models import WebhookDelivery, WebhookEndpoint

from .models import Channel, GitHubDelivery, PullRequestLink, Repository

DEMO_URL = "https://hooks.slack.com/services/T0DEMO/B0DEMO/demo-not-a-real-hook"
EVENTS = ["story.created", "story.updated", "report.published"]


def seed(*, workspace, users) -> None:
    owner = users.get("demo") or next(iter(users.values()), None)
    if owner is None:
        return
    _seed_github(workspace=workspace, owner=owner)
    if Channel.objects.filter(workspace=workspace, name="#product-updates").exists():
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


def _seed_github(*, workspace, owner) -> None:
    """A repository connection with one merged pull request linked to a done story. Written directly
    (no delivery through the webhook): the demo's story keeps the status the backlog demo gave it."""
    import secrets

    from backlog.models import Story

    story = (Story.objects.filter(product__workspace=workspace, status="done").order_by("id").first()
             or Story.objects.filter(product__workspace=workspace).order_by("id").first())
    if story is None or Repository.objects.filter(workspace=workspace, full_name="acme/analytics-web").exists():
        return
    repository = Repository.objects.create(
        workspace=workspace, product=story.product, full_name="acme/analytics-web",
        hook_token=secrets.token_urlsafe(24), secret_sealed=seal(secrets.token_urlsafe(32)),
        merge_status="done" if story.status == "done" else "", last_delivery_at=timezone.now(), created_by=owner)
    PullRequestLink.objects.create(
        repository=repository, story=story, number=128, title=f"PMH-{story.id}: {story.title}"[:300],
        url="https://github.com/acme/analytics-web/pull/128", branch=f"feature/pmh-{story.id}",
        state=PullRequestLink.State.MERGED, checks="success", updated_at=timezone.now() - timedelta(days=1))
    GitHubDelivery.objects.bulk_create([
        GitHubDelivery(repository=repository, delivery_id="demo-1", event="pull_request",
                       outcome="pull request #128 open: 1 story linked",
                       received_at=timezone.now() - timedelta(days=3)),
        GitHubDelivery(repository=repository, delivery_id="demo-2", event="pull_request",
                       outcome="pull request #128 merged: 1 story linked",
                       received_at=timezone.now() - timedelta(days=1)),
    ])
