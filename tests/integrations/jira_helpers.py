"""Helpers of the Jira tests: a connected, linked product against the fake Jira, and webhooks
posted to PMHub as Jira sends them."""

from backlog import services as backlog
from integrations.jira import services
from integrations.jira.models import JiraProjectLink
from pmhub.secretbox import unseal
from tests.roadmaps.factories import ProductFactory


def connect(admin, workspace, fake, **link):
    kind = getattr(fake, "kind", "cloud")  # a Data Center fake: URL and personal access token only
    connection, secret = services.connection_create(user=admin, workspace=workspace, kind=kind, name="Acme Jira",
                                                    base_url=fake.url, email=fake.email if kind == "cloud" else "",
                                                    token=fake.token)
    product = link.pop("product", None) or ProductFactory(workspace=workspace, name="Mobile app")
    services.link_create(user=admin, connection=connection, product=product, project_key="ENG", **link)
    return connection, secret, JiraProjectLink.objects.select_related("connection", "product").get(product=product)


def post_webhook(client, connection, body: bytes, headers: dict):
    meta = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items() if k != "Content-Type"}
    return client.post(f"/integrations/jira/{connection.hook_token}/", body, content_type="application/json", **meta)


def deliver(client, fake, connection, event, issue_id, **kw):
    body, headers = fake.webhook(event, issue_id, secret=unseal(connection.secret_sealed), **kw)
    return post_webhook(client, connection, body, headers)


def story(admin, product, title="Export roadmap", **data):
    return backlog.story_create(actor=admin, product=product, title=title, **data)
