"""The send-time outbound check in a real worker: a webhook row stored before the check existed
(or written around it) pointing at a receiver on 127.0.0.1 is refused by the worker process, and
the receiver is never reached; the same worker delivers to an allowed host."""

import pytest

from pmhub.webhooks import webhook_emit
from reports.models import WebhookDelivery
from tests.factories import WorkspaceFactory
from tests.reports.factories import WebhookEndpointFactory
from tests.security.test_outbound import Receiver

from .conftest import WorkerProcess, publishing_to, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def _worker(tmp_path, **extra_env):
    return WorkerProcess(tmp_path, extra_env=extra_env)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "2130706433", "[::ffff:127.0.0.1]"])
def test_a_real_worker_refuses_a_stored_loopback_url_and_never_reaches_it(host, services_ready, transactional_db,
                                                                          tmp_path, receiver):
    workspace = WorkspaceFactory()
    WebhookEndpointFactory(workspace=workspace, url=receiver.url(host), events=["story.created"])
    worker = _worker(tmp_path)
    with publishing_to(worker):
        worker.start()
        try:
            webhook_emit(workspace_id=workspace.id, event="story.created", payload={"id": 1})
            delivery = wait_until(
                lambda: WebhookDelivery.objects.filter(status="failed").first(), timeout=60,
                message=lambda: "the refused delivery; worker log:\n" + worker.output()[-3000:])
        finally:
            worker.stop()
    assert delivery.error == "refused: loopback address" and delivery.attempts == 1
    assert delivery.response_ms is None and receiver.received == []


def test_a_real_worker_delivers_to_a_host_the_operator_allows(services_ready, transactional_db, tmp_path, receiver):
    workspace = WorkspaceFactory()
    WebhookEndpointFactory(workspace=workspace, url=receiver.url(), events=["story.created"])
    worker = _worker(tmp_path, OUTBOUND_ALLOWED_HOSTS="127.0.0.1")
    with publishing_to(worker):
        worker.start()
        try:
            webhook_emit(workspace_id=workspace.id, event="story.created", payload={"id": 1})
            wait_until(lambda: WebhookDelivery.objects.filter(status="success").exists(), timeout=60,
                       message=lambda: "the delivery; worker log:\n" + worker.output()[-3000:])
        finally:
            worker.stop()
    assert len(receiver.received) == 1
