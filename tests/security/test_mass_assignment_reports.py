"""Reports writes that name members and products: a subscription's recipients are members of its
workspace (400 naming the others, on the API and the page), its product is one of the workspace's;
notification preferences are the caller's own whatever user the body names."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from reports.models import NotificationPreference
from tests.reports.factories import SubscriptionFactory, subscribe

from .massassign import foreign_world, nothing_changes

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(bridge):
    client = APIClient()
    client.force_authenticate(bridge)
    return client


@pytest.fixture
def subscription(workspace):
    return subscribe(SubscriptionFactory(workspace=workspace, product=None, name="Weekly"), "cfo@outside.test")


def test_subscription_recipients_are_members_of_its_workspace(api, client_as, bridge, subscription, outsider,
                                                              workspace, other_workspace):
    body = {"member_ids": [bridge.id, outsider.id]}
    with nothing_changes(workspace, other_workspace):
        created = api.post("/api/v1/report-subscriptions/", {"workspace": workspace.id, "name": "Board", **body},
                           format="json")
        updated = api.patch(f"/api/v1/report-subscriptions/{subscription.id}/", body | {"version": subscription.version},
                            format="json")
        page = client_as(bridge).post(reverse("reports:detail", kwargs={"ws": workspace.slug,
                                                                        "subscription_id": subscription.id}),
                                      {"name": "Weekly", "cadence": "weekly", "weekday": "0", "day_of_month": "1",
                                       "hour": "8", "sections": ["kpis"], **body})
    for response in (created, updated):
        assert response.status_code == 400
        message = " ".join(response.json()["errors"]["member_ids"])
        assert str(outsider.id) in message and str(bridge.id) not in message
    assert page.status_code == 400


def test_subscription_product_is_one_of_its_workspace(api, subscription, workspace, other_workspace):
    theirs = foreign_world(other_workspace)["roadmaps.Product"]
    with nothing_changes(workspace, other_workspace):
        responses = [
            api.post("/api/v1/report-subscriptions/", {"workspace": workspace.id, "name": "Board",
                                                       "product": theirs.id, "emails": ["a@b.test"]}, format="json"),
            api.patch(f"/api/v1/report-subscriptions/{subscription.id}/", {"product": theirs.id}, format="json"),
            api.post("/api/v1/report-subscriptions/preview/", {"workspace": workspace.id, "product": theirs.id},
                     format="json")]
    assert all(r.status_code == 400 and "product" in r.json()["errors"] for r in responses)


def test_notification_preference_is_the_callers_own(api, bridge, outsider):
    response = api.put("/api/v1/notification-preferences/mention/", {
        "email": False, "user": outsider.id, "user_id": outsider.id, "id": 10**9, "kind": "assignment"},
        format="json")
    assert response.status_code == 200 and response.json()["kind"] == "mention"
    assert list(NotificationPreference.objects.values_list("user_id", "kind", "email")) == [
        (bridge.id, "mention", False)]
