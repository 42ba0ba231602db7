"""Report sending by a real Celery worker through Redis to a real SMTP server, including a worker
killed (kill -9) in the middle of an SMTP conversation: after restart, every recipient gets the
report exactly once."""

import time

import pytest

from pmhub.models import Role
from reports import services
from reports.models import ReportRun
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
from tests.reports.factories import ProductFactory, SubscriptionFactory, subscribe
from tests.reports.smtp import RecordingHandler, SmtpServer

from .conftest import WorkerProcess, publishing_to, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def smtp_handler():
    handler = RecordingHandler(stall_first=True)
    server = SmtpServer(handler).start()
    yield handler, server.port
    server.stop()


@pytest.fixture
def smtp_worker(services_ready, transactional_db, tmp_path, smtp_handler):
    """celery_worker_process, with SMTP pointed at the test's server and a short visibility timeout
    (Redis hands an unacked message to another worker only after it) and a short claim lease."""
    handler, port = smtp_handler
    worker = WorkerProcess(tmp_path, extra_env={
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend", "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(port), "EMAIL_TIMEOUT": "4", "CELERY_VISIBILITY_TIMEOUT": "5"})
    with publishing_to(worker):
        worker.start()
        try:
            yield worker, handler
        finally:
            worker.stop()


def _subscription(*emails):
    workspace = WorkspaceFactory()
    owner = UserFactory()
    MembershipFactory(user=owner, workspace=workspace, role=Role.ADMIN)
    subscription = SubscriptionFactory(product=ProductFactory(workspace=workspace), owner=owner)
    return owner, subscribe(subscription, *emails)


@pytest.mark.faults
def test_worker_killed_during_smtp_send_delivers_exactly_once_after_restart(smtp_worker):
    worker, smtp = smtp_worker
    owner, subscription = _subscription("a@outside.test", "b@outside.test")

    run = services.report_send_now(user=owner, subscription=subscription)
    # The first SMTP connection hangs on DATA: the worker is mid-send, its claim committed.
    wait_until(smtp.stalled.is_set, timeout=60, message=lambda: "the stalled DATA; log:\n" + worker.output()[-3000:])
    worker.kill()
    assert run.deliveries.filter(status="sending").count() == 1
    assert smtp.messages == []

    worker.start()  # acks_late + reject_on_worker_lost: Redis redelivers after the visibility timeout
    wait_until(lambda: ReportRun.objects.get(id=run.id).status == "sent", timeout=120,
               message=lambda: "the run to be sent; log:\n" + worker.output()[-4000:])

    assert smtp.recipients() == ["a@outside.test", "b@outside.test"]
    assert sorted(run.deliveries.values_list("status", flat=True)) == ["sent", "sent"]
    assert run.deliveries.get(email="a@outside.test").attempts == 2


def test_throughput_of_one_worker(smtp_worker, capsys):
    """Not an assertion on time: prints how many one-recipient reports one worker mails per minute."""
    worker, smtp = smtp_worker
    smtp.stall_first = False
    owner, subscription = _subscription("reader@outside.test")
    count = 20
    started = time.monotonic()
    for i in range(count):
        services.run_create(subscription=subscription, period=f"bench-{i}")
    wait_until(lambda: ReportRun.objects.filter(subscription=subscription, status="sent").count() == count,
               timeout=180, message=lambda: worker.output()[-3000:])
    elapsed = time.monotonic() - started
    assert len(smtp.messages) == count
    with capsys.disabled():
        print(f"\n[reports] one worker mailed {count} reports in {elapsed:.1f} s "
              f"= {count / elapsed * 60:.0f} reports/minute (local SMTP, build+render+send)")
