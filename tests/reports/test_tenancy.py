"""Every page and endpoint: outsider 404, viewer 403 on writes (rows unchanged), lists with fixed queries."""

import pytest
from django.urls import reverse

from reports.models import ReportRun, ReportSubscription, WebhookEndpoint

from .factories import SubscriptionFactory, WebhookEndpointFactory, subscribe

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscription(product, admin):
    return subscribe(SubscriptionFactory(product=product, owner=admin, name="Original"), "x@outside.test")


@pytest.fixture
def run(subscription):
    return ReportRun.objects.create(subscription=subscription, period="2026-W48", status="sent",
                                    data={"title": "t", "scope": "s", "period": "2026-W48", "period_label": "2026-W48",
                                          "workspace": {"name": "Acme", "slug": "acme"}, "today": "2026-11-26",
                                          "sections": []})


@pytest.fixture
def endpoint(workspace):
    return WebhookEndpointFactory(workspace=workspace, url="https://hooks.acme.test/in", events=["story.created"])


def _pages(workspace, subscription, run, endpoint):
    ws = workspace.slug
    return {
        "list": reverse("reports:list", kwargs={"ws": ws}),
        "preview": reverse("reports:preview", kwargs={"ws": ws}),
        "detail": reverse("reports:detail", kwargs={"ws": ws, "subscription_id": subscription.id}),
        "report": reverse("reports:report", kwargs={"ws": ws, "subscription_id": subscription.id}),
        "run": reverse("reports:run", kwargs={"ws": ws, "run_id": run.id}),
        "webhooks": reverse("reports:webhooks", kwargs={"ws": ws}),
        "webhook_detail": reverse("reports:webhook_detail", kwargs={"ws": ws, "endpoint_id": endpoint.id}),
    }


PAGES = ["list", "preview", "detail", "report", "run", "webhooks", "webhook_detail"]


@pytest.mark.parametrize("page", PAGES)
def test_outsider_gets_404_on_every_page(client_as, outsider, workspace, subscription, run, endpoint, page):
    url = _pages(workspace, subscription, run, endpoint)[page]
    client = client_as(outsider)
    assert client.get(url).status_code == 404
    assert client.post(url, {"name": "pwned", "action": "delete"}).status_code == 404
    assert ReportSubscription.objects.get().name == "Original" and WebhookEndpoint.objects.exists()


def test_outsider_cannot_reach_foreign_objects_through_own_workspace(client_as, outsider, other_workspace,
                                                                     subscription, run, endpoint):
    client = client_as(outsider)
    ws = other_workspace.slug
    assert client.get(reverse("reports:detail", kwargs={"ws": ws, "subscription_id": subscription.id})).status_code == 404
    assert client.get(reverse("reports:run", kwargs={"ws": ws, "run_id": run.id})).status_code == 404
    assert client.post(reverse("reports:send_now", kwargs={"ws": ws, "subscription_id": subscription.id})
                       ).status_code == 404
    assert client.get(reverse("reports:webhook_detail", kwargs={"ws": ws, "endpoint_id": endpoint.id})
                      ).status_code == 404
    assert not ReportRun.objects.exclude(id=run.id).exists()


@pytest.mark.parametrize("page", ["list", "preview", "detail", "report", "run"])
def test_viewer_sees_report_pages(client_as, viewer, workspace, subscription, run, endpoint, page):
    assert client_as(viewer).get(_pages(workspace, subscription, run, endpoint)[page]).status_code == 200


@pytest.mark.parametrize("page", ["webhooks", "webhook_detail"])
def test_webhook_pages_are_for_admins(client_as, viewer, editor, admin, workspace, subscription, run, endpoint, page):
    url = _pages(workspace, subscription, run, endpoint)[page]
    assert client_as(viewer).get(url).status_code == 403
    assert client_as(editor).get(url).status_code == 403
    assert client_as(editor).post(url, {"action": "delete", "url": "https://x.test/", "events": "story.created"}
                                  ).status_code == 403
    assert client_as(admin).get(url).status_code == 200
    assert WebhookEndpoint.objects.count() == 1


def test_viewer_cannot_write_reports(client_as, viewer, workspace, subscription, run, endpoint):
    client, ws = client_as(viewer), workspace.slug
    pages = _pages(workspace, subscription, run, endpoint)
    assert client.post(pages["list"], {"name": "New"}).status_code == 403
    assert client.post(pages["detail"], {"name": "Changed"}).status_code == 403
    for name in ("send_now", "delete"):
        assert client.post(reverse(f"reports:{name}", kwargs={"ws": ws, "subscription_id": subscription.id})
                           ).status_code == 403
    assert ReportSubscription.objects.get().name == "Original"
    assert ReportRun.objects.count() == 1


def test_subscription_list_page_query_count_is_fixed(client_as, admin, workspace, product, django_assert_max_num_queries):
    for i in range(8):
        subscribe(SubscriptionFactory(product=product), f"p{i}@outside.test", f"q{i}@outside.test")
    client = client_as(admin)
    client.get(reverse("reports:list", kwargs={"ws": workspace.slug}))
    with django_assert_max_num_queries(14):
        assert client.get(reverse("reports:list", kwargs={"ws": workspace.slug})).status_code == 200


def test_history_page_query_count_is_fixed(client_as, admin, workspace, subscription, django_assert_max_num_queries):
    for i in range(6):
        r = ReportRun.objects.create(subscription=subscription, period=f"2026-W{i:02d}")
        for j in range(3):
            r.deliveries.create(email=f"r{j}@x.test", status="sent")
    client = client_as(admin)
    url = reverse("reports:detail", kwargs={"ws": workspace.slug, "subscription_id": subscription.id})
    with django_assert_max_num_queries(16):
        response = client.get(url)
    assert response.status_code == 200 and response.content.count(b'data-testid="run-row"') == 6


# --- API --------------------------------------------------------------------------------------------
API = {
    "subscription": lambda s, e: f"/api/v1/report-subscriptions/{s.id}/",
    "webhook": lambda s, e: f"/api/v1/webhook-endpoints/{e.id}/",
}


@pytest.mark.parametrize("resource", list(API))
@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_api_outsider_gets_404(api, outsider, subscription, endpoint, resource, method):
    api.force_authenticate(outsider)
    response = getattr(api, method)(API[resource](subscription, endpoint), {"name": "pwned"}, format="json")
    assert response.status_code == 404
    assert ReportSubscription.objects.get().name == "Original" and WebhookEndpoint.objects.count() == 1


@pytest.mark.parametrize("path", ["preview/", "runs/"])
def test_api_outsider_gets_404_on_actions(api, outsider, subscription, path):
    api.force_authenticate(outsider)
    assert api.get(f"/api/v1/report-subscriptions/{subscription.id}/{path}").status_code == 404
    assert api.post(f"/api/v1/report-subscriptions/{subscription.id}/send_now/").status_code == 404
    assert not ReportRun.objects.exists()


def test_api_outsider_cannot_create_in_or_preview_a_foreign_workspace(api, outsider, workspace, product):
    api.force_authenticate(outsider)
    body = {"workspace": workspace.id, "name": "x", "emails": ["a@b.test"]}
    assert api.post("/api/v1/report-subscriptions/", body, format="json").status_code == 404
    assert api.post("/api/v1/report-subscriptions/preview/", {"workspace": workspace.id}, format="json"
                    ).status_code == 404
    assert api.post("/api/v1/webhook-endpoints/", {"workspace": workspace.id, "url": "https://x.test/",
                                                   "events": ["story.created"]}, format="json").status_code == 404
    assert not ReportSubscription.objects.exists() and not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_api_viewer_gets_403_on_writes(api, viewer, subscription, endpoint, method):
    api.force_authenticate(viewer)
    body = {"workspace": subscription.workspace_id, "name": "Changed", "url": "https://x.test/",
            "events": ["story.created"]}
    for url in (API["subscription"](subscription, endpoint), API["webhook"](subscription, endpoint)):
        assert getattr(api, method)(url, body, format="json").status_code == 403
    assert api.post(f"/api/v1/report-subscriptions/{subscription.id}/send_now/").status_code == 403
    assert ReportSubscription.objects.get().name == "Original"
    assert WebhookEndpoint.objects.get().url == "https://hooks.acme.test/in"
    assert not ReportRun.objects.exists()


def test_api_viewer_cannot_create(api, viewer, workspace):
    api.force_authenticate(viewer)
    body = {"workspace": workspace.id, "name": "x", "emails": ["a@b.test"]}
    assert api.post("/api/v1/report-subscriptions/", body, format="json").status_code == 403
    assert not ReportSubscription.objects.exists()


def test_api_editor_cannot_manage_webhooks(api, editor, workspace, endpoint):
    api.force_authenticate(editor)
    assert api.get("/api/v1/webhook-endpoints/").status_code == 403
    assert api.get(f"/api/v1/webhook-endpoints/{endpoint.id}/").status_code == 403
    assert api.post("/api/v1/webhook-endpoints/", {"workspace": workspace.id, "url": "https://x.test/",
                                                   "events": ["story.created"]}, format="json").status_code == 403
    assert WebhookEndpoint.objects.count() == 1


def test_api_list_query_count_is_fixed(api, admin, product, django_assert_max_num_queries):
    for i in range(10):
        subscribe(SubscriptionFactory(product=product), f"p{i}@outside.test")
    api.force_authenticate(admin)
    with django_assert_max_num_queries(6):
        response = api.get("/api/v1/report-subscriptions/")
    assert response.json()["count"] == 10


def test_api_webhook_deliveries_are_404_for_outsiders_and_403_for_viewers(api, outsider, viewer, endpoint):
    api.force_authenticate(outsider)
    assert api.get(f"/api/v1/webhook-endpoints/{endpoint.id}/deliveries/").status_code == 404
    api.force_authenticate(viewer)
    assert api.get(f"/api/v1/webhook-endpoints/{endpoint.id}/deliveries/").status_code == 403


def test_api_webhook_list_shows_only_workspaces_where_the_user_is_admin(api, viewer, workspace, endpoint):
    from pmhub.models import Membership, Role
    from tests.factories import WorkspaceFactory

    mine = WorkspaceFactory()
    Membership.objects.create(user=viewer, workspace=mine, role=Role.ADMIN)
    from .factories import WebhookEndpointFactory

    own = WebhookEndpointFactory(workspace=mine)
    api.force_authenticate(viewer)
    ids = [e["id"] for e in api.get("/api/v1/webhook-endpoints/").json()["results"]]
    assert ids == [own.id]
