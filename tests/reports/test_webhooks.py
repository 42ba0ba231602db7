"""Outgoing webhooks: signed JSON to a real HTTP server, retries, delivery log, auto-disable."""

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from pmhub.models import Notification
from pmhub.webhooks import webhook_emit
from reports import services
from reports.models import WebhookDelivery, WebhookEndpoint
from reports.tasks import webhook_deliver

pytestmark = pytest.mark.django_db


class Receiver:
    """http.server in a thread on 127.0.0.1 that verifies the signature like a real consumer would."""

    def __init__(self, secret="", status=200):
        self.secret, self.status, self.received = secret, status, []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                parts = dict(p.split("=", 1) for p in self.headers["X-PMHub-Signature"].split(","))
                expected = hmac.new(receiver.secret.encode(), f"{parts['t']}.{body}".encode(),
                                    hashlib.sha256).hexdigest()
                receiver.received.append({
                    "valid": hmac.compare_digest(expected, parts["v1"]), "body": json.loads(body),
                    "event": self.headers["X-PMHub-Event"], "delivery": self.headers["X-PMHub-Delivery"]})
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/pmhub"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    # The receiver is on loopback, which the outbound policy refuses unless the operator allows it.
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def eager_retries(monkeypatch):
    from pmhub.celery import app

    monkeypatch.setitem(app.conf, "task_eager_propagates", False)


def test_delivery_is_signed_and_verified_by_the_receiver(receiver, admin, workspace,
                                                         django_capture_on_commit_callbacks):
    endpoint = services.webhook_endpoint_create(user=admin, workspace=workspace, url=receiver.url,
                                                events=["story.created", "story.moved"])
    receiver.secret = endpoint.secret

    with django_capture_on_commit_callbacks(execute=True):
        webhook_emit(workspace_id=workspace.id, event="story.created", payload={"id": 7, "title": "Login"})

    [hit] = receiver.received
    assert hit["valid"] and hit["event"] == "story.created"
    assert hit["body"]["data"] == {"id": 7, "title": "Login"} and hit["body"]["event"] == "story.created"
    delivery = WebhookDelivery.objects.get()
    assert hit["delivery"] == str(delivery.uuid)
    assert (delivery.status, delivery.response_status, delivery.attempts) == ("success", 200, 1)
    assert delivery.response_ms is not None


def test_a_wrong_secret_does_not_verify(receiver, admin, workspace, django_capture_on_commit_callbacks):
    services.webhook_endpoint_create(user=admin, workspace=workspace, url=receiver.url, events=["story.created"])
    receiver.secret = "whsec_not-the-secret"
    with django_capture_on_commit_callbacks(execute=True):
        webhook_emit(workspace_id=workspace.id, event="story.created", payload={})
    assert [h["valid"] for h in receiver.received] == [False]


def test_only_active_endpoints_of_the_workspace_that_chose_the_event_get_it(receiver, admin, workspace, outsider,
                                                                           other_workspace,
                                                                           django_capture_on_commit_callbacks):
    services.webhook_endpoint_create(user=admin, workspace=workspace, url=receiver.url, events=["kpi.health_changed"])
    services.webhook_endpoint_create(user=outsider, workspace=other_workspace, url=receiver.url,
                                     events=["story.created"])
    with django_capture_on_commit_callbacks(execute=True):
        webhook_emit(workspace_id=workspace.id, event="story.created", payload={})
    assert receiver.received == [] and WebhookDelivery.objects.count() == 0


def test_failed_attempts_are_retried_and_logged(receiver, admin, workspace, eager_retries,
                                                django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr(webhook_deliver, "max_retries", 2)
    receiver.status = 500
    services.webhook_endpoint_create(user=admin, workspace=workspace, url=receiver.url, events=["story.created"])

    with django_capture_on_commit_callbacks(execute=True):
        webhook_emit(workspace_id=workspace.id, event="story.created", payload={})

    assert len(receiver.received) == 3  # first try + 2 retries
    assert len({h["delivery"] for h in receiver.received}) == 1  # same delivery id: receivers can dedupe
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("failed", 3, 500)
    assert delivery.error == "HTTP 500"
    assert WebhookEndpoint.objects.get().consecutive_failures == 1


def test_endpoint_failing_ten_deliveries_in_a_row_is_disabled_and_admins_notified(
        admin, editor, workspace, eager_retries, django_capture_on_commit_callbacks, monkeypatch, settings):
    from .smtp import free_port

    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    monkeypatch.setattr(webhook_deliver, "max_retries", 0)
    endpoint = services.webhook_endpoint_create(user=admin, workspace=workspace,
                                                url=f"http://127.0.0.1:{free_port()}/down", events=["story.updated"])
    for i in range(services.WEBHOOK_DISABLE_AFTER + 2):
        with django_capture_on_commit_callbacks(execute=True):
            webhook_emit(workspace_id=workspace.id, event="story.updated", payload={"i": i})

    endpoint.refresh_from_db()
    assert not endpoint.active and endpoint.disabled_at is not None
    assert endpoint.consecutive_failures == services.WEBHOOK_DISABLE_AFTER
    # Events after the disable create no deliveries.
    assert endpoint.deliveries.count() == services.WEBHOOK_DISABLE_AFTER
    assert endpoint.deliveries.first().error == "connection failed"  # never the socket's own text
    assert Notification.objects.filter(kind="webhook_disabled", recipient=admin).count() == 1
    assert not Notification.objects.filter(kind="webhook_disabled", recipient=editor).exists()


def test_a_success_resets_the_failure_streak(receiver, admin, workspace, django_capture_on_commit_callbacks):
    endpoint = services.webhook_endpoint_create(user=admin, workspace=workspace, url=receiver.url,
                                                events=["story.created"])
    WebhookEndpoint.objects.filter(id=endpoint.id).update(consecutive_failures=9)
    with django_capture_on_commit_callbacks(execute=True):
        webhook_emit(workspace_id=workspace.id, event="story.created", payload={})
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0 and endpoint.active


@pytest.mark.parametrize("url", ["ftp://example.com/x", "file:///etc/passwd", "javascript:alert(1)", "example.com"])
def test_only_http_and_https_urls_are_accepted(admin, workspace, url):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        services.webhook_endpoint_create(user=admin, workspace=workspace, url=url, events=["story.created"])
    assert "url" in exc.value.error_dict
    assert not WebhookEndpoint.objects.exists()


def test_unknown_events_are_refused(admin, workspace):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.webhook_endpoint_create(user=admin, workspace=workspace, url="https://x.test/", events=["nope"])


def test_a_delivered_webhook_is_not_sent_again_on_redelivery(receiver, admin, workspace,
                                                             django_capture_on_commit_callbacks):
    endpoint = services.webhook_endpoint_create(user=admin, workspace=workspace, url=receiver.url,
                                                events=["story.created"])
    receiver.secret = endpoint.secret
    with django_capture_on_commit_callbacks(execute=True):
        webhook_emit(workspace_id=workspace.id, event="story.created", payload={})
    webhook_deliver.apply(args=[WebhookDelivery.objects.get().id])
    assert len(receiver.received) == 1


def test_payload_with_dates_and_decimals_is_serialised(receiver, admin, workspace, django_capture_on_commit_callbacks):
    from datetime import date
    from decimal import Decimal

    endpoint = services.webhook_endpoint_create(user=admin, workspace=workspace, url=receiver.url,
                                                events=["kpi.health_changed"])
    receiver.secret = endpoint.secret
    with django_capture_on_commit_callbacks(execute=True):
        webhook_emit(workspace_id=workspace.id, event="kpi.health_changed",
                     payload={"value": Decimal("1.50"), "on": date(2026, 11, 26)})
    [hit] = receiver.received
    assert hit["valid"] and hit["body"]["data"] == {"value": "1.50", "on": "2026-11-26"}


def test_the_scrub_migration_leaves_only_short_reasons_in_old_delivery_logs(admin, workspace):
    """Rows logged before the outbound policy held socket errors and timings of internal hosts."""
    import importlib

    from django.apps import apps

    scrub = importlib.import_module("reports.migrations.0004_webhook_delivery_log_scrub").scrub
    endpoint = WebhookEndpoint.objects.create(workspace=workspace, url="https://hooks.acme.test/in", events=[])
    old = [("URLError: [Errno 111] Connection refused", None, 3), ("URLError: timed out", None, 10004),
           ("HTTP 500", 500, 12), ("", 200, 9)]
    rows = [WebhookDelivery.objects.create(endpoint=endpoint, event="story.created", error=e, response_status=s,
                                           response_ms=ms) for e, s, ms in old]
    scrub(apps, None)
    assert [(d.error, d.response_status, d.response_ms) for d in (WebhookDelivery.objects.get(id=r.id) for r in rows)] \
        == [("connection failed", None, None), ("timeout", None, None), ("HTTP 500", 500, 12), ("", 200, 9)]
