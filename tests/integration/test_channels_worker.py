"""Slack/Teams channel deliveries in a real Celery worker: a 429 with Retry-After is waited out,
a 5xx is retried with backoff, and the message arrives once, its attempts in the delivery log."""

import pytest

from backlog import services as backlog
from integrations import services
from reports.models import WebhookDelivery
from tests.integrations.receiver import ChatReceiver
from tests.roadmaps.factories import ProductFactory

from .conftest import WorkerProcess, publishing_to, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def chat(settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    r = ChatReceiver()
    yield r
    r.close()


def test_a_real_worker_honours_retry_after_and_retries_5xx_until_delivered(services_ready, transactional_db,
                                                                            tmp_path, chat, admin, workspace):
    chat.script = [(429, {"Retry-After": "3"}), (503, {})]
    product = ProductFactory(workspace=workspace)
    services.channel_create(user=admin, workspace=workspace, kind="teams", name="#eng", url=chat.url("/teams"),
                            events=["story.created"])
    worker = WorkerProcess(tmp_path, extra_env={"OUTBOUND_ALLOWED_HOSTS": "127.0.0.1"})
    with publishing_to(worker):
        worker.start()
        try:
            backlog.story_create(actor=admin, product=product, title="Ship the <beta> & more")
            delivery = wait_until(lambda: WebhookDelivery.objects.filter(status="success").first(), timeout=90,
                                  message=lambda: "the delivery; worker log:\n" + worker.output()[-3000:])
        finally:
            worker.stop()
    assert len(chat.received) == 3 and delivery.attempts == 3
    first, second, _ = chat.received
    assert second["at"] - first["at"] >= 3  # never sooner than the 429 asked
    card = chat.received[-1]["body"]["attachments"][0]["content"]
    assert card["type"] == "AdaptiveCard" and card["body"][1]["text"] == r"Ship the <beta\> & more"
    assert {b["body"]["attachments"][0]["content"]["body"][1]["text"] for b in chat.received} == {
        r"Ship the <beta\> & more"}  # every retry posts the same message
