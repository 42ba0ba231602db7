"""Broker fault: Redis is killed and restarted while usage events are being ingested.

A private redis-server (own port, no persistence) is the broker of the in-process Celery app and of
a real worker; the shared Redis of the other tests is never touched. While a thread ingests
batches through the API, the test kills redis-server (SIGKILL), keeps ingesting, and starts it
again (empty: the queued messages are gone too). Every batch is answered 2xx or with a clear error
in the one error format; every event of an accepted batch is in PostgreSQL; and after Redis is
back the beat sweep (adoption.tasks.rollup_recent) rolls up every touched day.

The same for a webhook: a story created while Redis is down answers 201 with its delivery pending
(the outbox row), and after Redis is back the beat sweep (reports.tasks.webhook_deliveries_sweep)
has the worker POST it, once."""

import re
import shutil
import socket
import subprocess
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from adoption import rollups
from adoption.models import ActorDay, ProductDaily, TouchedDay, UsageEvent
from adoption.tasks import rollup_recent
from pmhub.models import Role
from reports.models import WebhookDelivery
from reports.tasks import webhook_deliveries_sweep
from tests.adoption.factories import ProductFactory, make_ingestion_key
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
from tests.reports.factories import WebhookEndpointFactory
from tests.reports.test_webhooks import Receiver
from tests.services import require

from .conftest import WorkerProcess, publishing_to, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.faults]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    def __init__(self, tmp_path):
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = tmp_path / "redis.log"
        self.proc: subprocess.Popen | None = None
        self.kills = 0

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--daemonize", "no", "--logfile", str(self.log)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"redis-server did not start on {self.port}")

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
            self.kills += 1


@pytest.fixture
def private_redis(services_ready, tmp_path):
    require(shutil.which("redis-server") is not None, "redis-server (apt install redis-server)")
    server = RedisServer(tmp_path).start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def broker_on(private_redis, transactional_db, tmp_path):
    """The in-process Celery app publishes to the private Redis (fresh connection pools), and a real
    worker consumes from it."""
    # OUTBOUND_ALLOWED_HOSTS: the webhook receiver of these tests listens on loopback.
    worker = WorkerProcess(tmp_path, extra_env={"REDIS_URL": private_redis.url, "OUTBOUND_ALLOWED_HOSTS": "127.0.0.1"})
    with publishing_to(worker, broker_url=private_redis.url):
        worker.start()
        try:
            yield private_redis, worker
        finally:
            worker.stop()


class Ingester(threading.Thread):
    """Posts batches of 25 events (unique ids) until stopped; records each answer."""

    def __init__(self, raw_key: str):
        super().__init__(daemon=True)
        self.raw_key = raw_key
        self.stop = threading.Event()
        self.fresh_days = threading.Event()
        self.results: list[tuple[int, dict, list[str]]] = []
        self.error: BaseException | None = None

    def run(self):
        client = APIClient(raise_request_exception=False)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {self.raw_key}")
        now = timezone.now()
        try:
            batch = 0
            while not self.stop.is_set() and batch < 600:
                ids = [f"b{batch}-{i}" for i in range(25)]
                # Half today, half two days ago; while `fresh_days` is set, on a day no batch touched
                # before instead, so that every such batch queues a rollup (uses the broker).
                old = now - timedelta(days=batch + 3 if self.fresh_days.is_set() else 2)
                when = (now - timedelta(hours=1), old)
                events = [{"id": eid, "feature": ("search", "export")[i % 2], "actor": f"u{(batch + i) % 13}",
                           "occurred_at": when[i % 2].isoformat()} for i, eid in enumerate(ids)]
                response = self.client_post(client, events)
                self.results.append((response.status_code, _json(response), ids))
                batch += 1
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc
        finally:
            connection.close()

    @staticmethod
    def client_post(client, events):
        return client.post("/api/v1/events/bulk/", {"events": events}, format="json")

    def wait_for(self, count: int, timeout: float = 20):
        target = len(self.results) + count
        wait_until(lambda: len(self.results) >= target or self.error or not self.is_alive(), timeout=timeout,
                   interval=0.05, message=f"{count} more batches")


def _json(response):
    try:
        return response.json()
    except ValueError:
        return {"raw": response.content[:300].decode(errors="replace")}


def test_redis_restarted_during_ingestion_loses_no_accepted_event(broker_on, capsys, caplog):
    redis, worker = broker_on
    product = ProductFactory(workspace=WorkspaceFactory(time_zone="Europe/Berlin"))
    ingester = Ingester(make_ingestion_key(product))
    ingester.start()
    try:
        ingester.wait_for(4)
        t0 = time.monotonic()
        redis.kill()  # fault: the broker dies mid-ingestion (SIGKILL, nothing persisted)
        ingester.fresh_days.set()
        down_from = len(ingester.results)
        ingester.wait_for(4)
        down_to = len(ingester.results)
        t1 = time.monotonic()
        ingester.fresh_days.clear()
        redis.start()  # back, empty
        ingester.wait_for(4)
        t2 = time.monotonic()
    finally:
        ingester.stop.set()
        ingester.join(30)
    assert ingester.error is None, ingester.error
    assert not ingester.is_alive()

    statuses = [status for status, _, _ in ingester.results]
    # Every batch: accepted, or a clear error in the one error format (never a bare 500).
    for status, body, _ in ingester.results:
        assert 200 <= status < 300 or (status == 503 and {"detail", "code", "errors"} <= set(body)), (status, body)
    assert down_to > down_from  # batches were sent while the broker was down
    assert all(200 <= s < 300 for s in statuses[down_from:down_to]), "events are stored before any broker use"
    not_queued = [r for r in caplog.records if "not queued" in r.getMessage()]
    assert len(not_queued) >= 3, "batches while Redis was down queued rollups (and failed to)"

    # No accepted event is lost.
    accepted = {eid for status, _, ids in ingester.results if 200 <= status < 300 for eid in ids}
    stored = set(UsageEvent.objects.filter(product=product).values_list("event_id", flat=True))
    assert accepted <= stored
    assert len(accepted) >= 25 * 12

    # Days whose rollup could not be queued (or whose message died with Redis) stay pending until
    # the beat sweep; five minutes later it queues them, and the worker rolls them up.
    TouchedDay.objects.filter(product=product).update(touched_at=timezone.now() - timedelta(minutes=6))
    wait_until(lambda: _sweep_sent(), timeout=30, message=lambda: "the sweep to be queued")
    wait_until(lambda: not TouchedDay.objects.filter(product=product, pending=True).exists()
               and sum(ActorDay.objects.filter(product=product).values_list("events", flat=True)) == len(stored),
               timeout=45, message=lambda: "rolled-up days; worker log:\n" + worker.output()[-4000:])
    assert TouchedDay.objects.filter(product=product).count() >= 2 + 3  # today, two days ago, fresh days
    rolled = sorted(ProductDaily.objects.filter(product=product).values_list("day", "events", "active_users"))
    for day in TouchedDay.objects.filter(product=product).values_list("day", flat=True):
        rollups.rollup_day(product_id=product.id, day=day, tz_name="Europe/Berlin")
    assert sorted(ProductDaily.objects.filter(product=product).values_list("day", "events", "active_users")) == rolled
    with capsys.disabled():
        print(f"\n[faults] redis killed {redis.kills}x; {len(statuses)} batches ({down_to - down_from} while down), "
              f"statuses {sorted(set(statuses))}, {len(accepted)} events accepted, {len(stored)} stored, "
              f"{len(not_queued)} rollups not queued, {len(rolled)} days rolled up by the sweep; down {t1 - t0:.1f} s, 4 batches after restart {t2 - t1:.1f} s")


def _sweep_sent(task=rollup_recent) -> bool:
    """Send the beat's task once the in-process producer has reconnected to the restarted Redis."""
    try:
        task.delay()
    except Exception:  # noqa: BLE001 - kombu/redis connection errors while reconnecting
        return False
    return True


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def test_story_created_while_redis_is_down_is_answered_201_and_its_webhook_sent_once_later(
        broker_on, receiver, caplog):
    redis, worker = broker_on
    workspace = WorkspaceFactory()
    editor = UserFactory()
    MembershipFactory(user=editor, workspace=workspace, role=Role.EDITOR)
    product = ProductFactory(workspace=workspace)
    endpoint = WebhookEndpointFactory(workspace=workspace, url=receiver.url, events=["story.created"])
    receiver.secret = endpoint.secret
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(editor)

    redis.kill()  # fault: the broker is down when the write commits
    response = client.post("/api/v1/stories/", {"product": product.id, "title": "Outbox"}, format="json")
    assert response.status_code == 201, response.content
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert (delivery.status, delivery.attempts) == ("pending", 0)
    assert any("webhook deliveries not queued" in r.getMessage() for r in caplog.records)

    redis.start()  # back, empty: nothing was queued for the delivery
    # Five minutes later (the worker's clock cannot be moved: the row is made overdue instead), the
    # beat sends the sweep; the worker runs it and then the delivery.
    WebhookDelivery.objects.filter(id=delivery.id).update(next_attempt_at=timezone.now() - timedelta(minutes=6))
    wait_until(lambda: _sweep_sent(webhook_deliveries_sweep), timeout=30, message="the sweep to be queued")
    wait_until(lambda: WebhookDelivery.objects.get(id=delivery.id).status == "success", timeout=45,
               message=lambda: "the swept delivery; worker log:\n" + worker.output()[-4000:])

    [hit] = receiver.received
    assert hit["valid"] and hit["delivery"] == str(delivery.uuid)
    assert hit["body"]["data"]["id"] == response.json()["id"]
    # A second sweep finds nothing left to send.
    wait_until(lambda: _sweep_sent(webhook_deliveries_sweep), timeout=30, message="the second sweep")
    wait_until(lambda: len(_sweep_results(worker.output())) == 2, timeout=30,
               message=lambda: "the second sweep to run; log:\n" + worker.output()[-3000:])
    assert _sweep_results(worker.output()) == [1, 0]
    assert len(receiver.received) == 1


def _sweep_results(log: str) -> list[int]:
    """What each webhook sweep run returned (how many deliveries it queued), from the worker log."""
    return [int(n) for n in re.findall(r"webhook_deliveries_sweep\[[^]]+\] succeeded in [\d.]+s: (\d+)", log)]

