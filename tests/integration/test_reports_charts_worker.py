"""The report's charts are drawn by the worker that sends it: a real Celery worker (Redis broker)
mails a report whose e-mail carries each chart as a PNG part named by its <img> (decisions/1400)."""

import io
import re
import time
from datetime import date, timedelta
from email import message_from_bytes

import pytest
from PIL import Image

from metrics.models import Kpi, Measurement
from metrics.services import kpi_refresh_current
from pmhub.clock import today_in
from pmhub.models import Role
from reports import services
from reports.models import ReportRun, ReportRunPdf
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
from tests.reports.factories import InitiativeFactory, ProductFactory, SubscriptionFactory, subscribe
from tests.reports.smtp import RecordingHandler, SmtpServer

from .conftest import WorkerProcess, publishing_to, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def mailing_worker(services_ready, transactional_db, tmp_path):
    handler = RecordingHandler()
    server = SmtpServer(handler).start()
    worker = WorkerProcess(tmp_path, extra_env={
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend", "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(server.port), "EMAIL_TIMEOUT": "5"})
    with publishing_to(worker):
        worker.start()
        try:
            yield worker, handler
        finally:
            worker.stop()
            server.stop()


def test_a_worker_mails_the_report_with_its_charts_as_png_parts(mailing_worker):
    worker, smtp = mailing_worker
    workspace = WorkspaceFactory()
    owner = UserFactory()
    MembershipFactory(user=owner, workspace=workspace, role=Role.ADMIN)
    product = ProductFactory(workspace=workspace, name="Checkout")
    InitiativeFactory(product=product, title="Wallets", end_date=date(2099, 1, 1))
    kpi = Kpi.objects.create(product=product, name="Conversion", unit="percent", target_value=3)
    today = today_in(workspace.time_zone)
    for days, value in ((20, 2), (10, 2.5), (0, 2.8)):
        Measurement.objects.create(kpi=kpi, period_start=today - timedelta(days=days), value=value)
    kpi_refresh_current(kpi=kpi)
    subscription = subscribe(SubscriptionFactory(product=product, owner=owner), "cfo@outside.test")

    run = services.report_send_now(user=owner, subscription=subscription)
    wait_until(lambda: ReportRun.objects.get(id=run.id).status == "sent", timeout=90,
               message=lambda: "the run to be sent; log:\n" + worker.output()[-3000:])

    [sent] = smtp.messages
    message = message_from_bytes(sent["message"].as_bytes())
    html = next(p for p in message.walk() if p.get_content_type() == "text/html").get_payload(decode=True).decode()
    images = {p["Content-ID"].strip("<>"): p.get_payload(decode=True) for p in message.walk()
              if p.get_content_type() == "image/png"}
    assert set(re.findall(r'src="cid:([^"]+)"', html)) == set(images) == {
        "chart-roadmap-progress@pmhub", f"chart-kpi-{kpi.id}@pmhub"}
    for png in images.values():
        assert Image.open(io.BytesIO(png)).format == "PNG"
    # The same worker rendered the run's PDF from the run's data (decision 1420); a download answers it.
    wait_until(lambda: ReportRunPdf.objects.filter(run_id=run.id).exists(), timeout=90,
               message=lambda: "the run's PDF to be stored; log:\n" + worker.output()[-3000:])
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(owner)
    url = reverse("reports:run", kwargs={"ws": workspace.slug, "run_id": run.id}) + "?format=pdf"
    client.get(url)  # this test process's first request loads the URL conf, templates and middleware
    started = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200 and response.content == bytes(ReportRunPdf.objects.get(run_id=run.id).content)
    assert elapsed < 0.3, f"the stored PDF took {elapsed:.2f} s to answer"
    print(f"\n[reports] stored PDF ({len(response.content)} bytes) answered in {elapsed * 1000:.0f} ms")
