"""The successful effect of report and webhook-endpoint writes not covered elsewhere
(tests/core/test_service_success.py keeps the list)."""

import pytest

from reports import services
from reports.models import ReportSubscription, WebhookEndpoint
from tests.effects import verbs

pytestmark = pytest.mark.django_db


def test_webhook_endpoint_update_changes_events_and_reenables_it(admin, workspace):
    endpoint = services.webhook_endpoint_create(user=admin, workspace=workspace, url="https://hooks.test/a",
                                                events=["story.created"])
    WebhookEndpoint.objects.filter(id=endpoint.id).update(active=False, consecutive_failures=10)
    endpoint.refresh_from_db()
    services.webhook_endpoint_update(user=admin, endpoint=endpoint,
                                     data={"events": ["epic.created", "kpi.created"], "active": True})
    endpoint = WebhookEndpoint.objects.get(id=endpoint.id)
    assert (endpoint.events, endpoint.active, endpoint.consecutive_failures) == (
        ["epic.created", "kpi.created"], True, 0)
    assert verbs(workspace)[-1] == "updated webhook"


def test_webhook_endpoint_delete_removes_it(admin, workspace):
    endpoint = services.webhook_endpoint_create(user=admin, workspace=workspace, url="https://hooks.test/a",
                                                events=["story.created"])
    services.webhook_endpoint_delete(user=admin, endpoint=endpoint)
    assert not WebhookEndpoint.objects.filter(id=endpoint.id).exists()
    assert verbs(workspace)[-1] == "deleted webhook"


def test_subscription_create_update_and_delete(editor, workspace):
    sub = services.subscription_create(user=editor, workspace=workspace, name="Weekly", emails=["a@x.test"],
                                       sections=["roadmap", "kpis"])
    services.subscription_update(user=editor, subscription=sub, data={"hour": 17, "cadence": "monthly"})
    sub = ReportSubscription.objects.get(id=sub.id)
    assert (sub.hour, sub.cadence) == (17, "monthly")
    services.subscription_delete(user=editor, subscription=sub)
    assert not ReportSubscription.objects.filter(id=sub.id).exists()
