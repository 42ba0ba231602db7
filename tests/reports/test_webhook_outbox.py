"""Webhook deliveries are an outbox: the row is committed with the write that emitted it and sent
afterwards. A broker that is down when the write commits does not fail the write; the beat sweep
queues deliveries left pending, and a delivery is POSTed by one worker at a time and never again
once it succeeded."""

import logging
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from pmhub.celery import app as celery_app
from reports import services, tasks
from reports.models import WebhookDelivery
from tests.services import celery_pools_reset

from .factories import WebhookEndpointFactory
from .smtp import free_port
from .test_webhooks import Receiver


@pytest.fixture
def receiver(settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]  # the receiver is on loopback
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def broker_down():
    """The in-process Celery app sends to a Redis port where nothing listens (not eagerly): every
    send fails inside kombu/redis exactly as with Redis down. Fresh connection pools, put back after."""
    conf = celery_app.conf
    saved = {key: conf[key] for key in ("broker_url", "task_always_eager")}
    celery_pools_reset(close=False)
    conf.broker_url = f"redis://127.0.0.1:{free_port()}/0"
    conf.task_always_eager = False
    try:
        yield conf.broker_url
    finally:
        celery_pools_reset(close=True)
        for key, value in saved.items():
            conf[key] = value


@pytest.fixture
def endpoint(workspace, receiver):
    endpoint = WebhookEndpointFactory(workspace=workspace, url=receiver.url, events=["story.created"])
    receiver.secret = endpoint.secret
    return endpoint


def _create_story(user, product) -> int:
    """POST /api/v1/stories/ like a client: the response, never an exception from the test client."""
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    response = client.post("/api/v1/stories/", {"product": product.id, "title": "Outbox"}, format="json")
    return response


@pytest.mark.django_db(transaction=True)  # on-commit callbacks run inside the request, as in production
def test_story_created_while_the_broker_is_down_answers_201_and_leaves_the_delivery_pending(
        admin, product, endpoint, receiver, broker_down, caplog):
    with caplog.at_level(logging.WARNING, logger="reports.services"):
        response = _create_story(admin, product)

    assert response.status_code == 201, response.content
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert (delivery.status, delivery.attempts, delivery.payload["id"]) == ("pending", 0, response.json()["id"])
    assert receiver.received == []
    assert any("1 webhook deliveries not queued" in r.getMessage() for r in caplog.records)


@pytest.mark.django_db(transaction=True)
def test_the_sweep_sends_a_delivery_left_pending_by_a_broker_outage_once(admin, product, endpoint, receiver,
                                                                          broker_down):
    assert _create_story(admin, product).status_code == 201
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    celery_app.conf.task_always_eager = True  # the broker is back (tasks run in-process)

    assert tasks.webhook_deliveries_sweep() == 0  # not overdue yet: its first message may still come
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        assert tasks.webhook_deliveries_sweep() == 1
        assert tasks.webhook_deliveries_sweep() == 0

    [hit] = receiver.received
    assert hit["valid"] and hit["delivery"] == str(delivery.uuid) and hit["body"]["data"]["title"] == "Outbox"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.claimed_at) == ("success", 1, None)


def _overdue_delivery(endpoint, **fields) -> WebhookDelivery:
    ten_minutes_ago = timezone.now() - timedelta(minutes=10)
    fields = {"created_at": ten_minutes_ago, "next_attempt_at": ten_minutes_ago, **fields}
    return WebhookDelivery.objects.create(endpoint=endpoint, event="story.created", payload={"id": 1}, **fields)


@pytest.mark.django_db
def test_the_sweep_leaves_a_delivery_waiting_for_its_retry_alone(endpoint, receiver):
    _overdue_delivery(endpoint, attempts=3, next_attempt_at=timezone.now() + timedelta(minutes=2))
    assert tasks.webhook_deliveries_sweep() == 0
    assert receiver.received == []


@pytest.mark.django_db
def test_the_sweep_leaves_a_delivery_being_posted_alone_until_its_claim_is_stale(endpoint, receiver):
    delivery = _overdue_delivery(endpoint, claimed_at=timezone.now())
    assert tasks.webhook_deliveries_sweep() == 0

    with time_machine.travel(timezone.now() + services.webhook_lease() + timedelta(seconds=1)):
        assert tasks.webhook_deliveries_sweep() == 1  # its worker died mid-POST
    delivery.refresh_from_db()
    assert delivery.status == "success" and len(receiver.received) == 1


@pytest.mark.django_db
def test_a_second_message_for_a_claimed_delivery_does_not_post(endpoint, receiver):
    delivery = _overdue_delivery(endpoint, claimed_at=timezone.now())

    with pytest.raises(services.WebhookClaimHeld) as held:
        services.webhook_attempt(delivery_id=delivery.id)

    assert receiver.received == []
    assert 0 < held.value.retry_in <= services.webhook_lease().total_seconds() + 1


@pytest.mark.django_db
def test_a_sent_delivery_is_not_sent_again_by_the_sweep_or_a_late_message(endpoint, receiver):
    delivery = _overdue_delivery(endpoint)
    assert tasks.webhook_deliveries_sweep() == 1
    tasks.webhook_deliver.apply(args=[delivery.id])  # e.g. the original message, delivered late
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        assert tasks.webhook_deliveries_sweep() == 0
    assert len(receiver.received) == 1


def test_the_sweep_is_on_the_beat_schedule():
    [entry] = [e for e in settings.CELERY_BEAT_SCHEDULE.values()
               if e["task"] == "reports.tasks.webhook_deliveries_sweep"]
    assert entry["schedule"] <= 60
    assert "reports.tasks.webhook_deliveries_sweep" in celery_app.tasks
