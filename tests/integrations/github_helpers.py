"""Helpers of the GitHub sync tests: a product syncing a fake repository's issues, and webhooks
posted to PMHub as GitHub sends them."""

from integrations.github_sync import services
from integrations.jira.models import JiraProjectLink
from pmhub.secretbox import unseal
from tests.roadmaps.factories import ProductFactory

REPO = "acme/mobile-app"


def sync_issues(admin, workspace, fake, *, product=None, **kw):
    product = product or ProductFactory(workspace=workspace, name="Mobile app")
    connection, link, secret = services.issue_sync_create(
        user=admin, workspace=workspace, product=product, repository=REPO, token=fake.token, api_url=fake.url, **kw
    )
    link = JiraProjectLink.objects.select_related("connection", "product").get(id=link.id)
    return connection, secret, link


def post_hook(client, url: str, body: bytes, headers: dict):
    meta = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items() if k != "Content-Type"}
    return client.post(url, body, content_type="application/json", **meta)


def deliver(client, fake, connection, action: str, number: int, **kw):
    body, headers = fake.webhook(action, number, secret=unseal(connection.secret_sealed), **kw)
    return post_hook(client, f"/integrations/github-issues/{connection.hook_token}/", body, headers)
