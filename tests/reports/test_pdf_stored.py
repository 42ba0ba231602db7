"""The report PDF is rendered by the worker and stored with its run (decision 1420): a download
answers the stored bytes, or a "being prepared" page (202) that queued the render once; WeasyPrint
never runs in the request."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from reports import services
from reports.models import ReportRun, ReportRunPdf
from tests.factories import WorkspaceFactory

from .factories import ProductFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


def _run(subscription, period="2026-W48", **data):
    return ReportRun.objects.create(subscription=subscription, period=period, data=services.report_build(
        subscription=subscription, period=period) | data)


def _pdf_url(workspace, run):
    return reverse("reports:run", kwargs={"ws": workspace.slug, "run_id": run.id}) + "?format=pdf"


def _pdf_title(pdf: bytes) -> bytes:
    """The document title WeasyPrint writes (from the report's <title>), in a compressed object stream."""
    import re
    import zlib

    for stream in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            text = zlib.decompress(stream.group(1))
        except zlib.error:
            continue
        if match := re.search(rb"/Title \((.*?)\)>>", text):
            return match.group(1)
    return b""


def test_a_download_without_a_stored_pdf_is_a_202_page_and_queues_the_render_once(
        client_as, viewer, workspace, product, django_capture_on_commit_callbacks):
    run = _run(SubscriptionFactory(product=product, name="Board update"))
    client = client_as(viewer)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.get(_pdf_url(workspace, run))
    # Answered without rendering: the page says so and no PDF exists yet (the render is queued).
    assert response.status_code == 202 and response["Content-Type"].startswith("text/html")
    assert b"being prepared" in response.content and b'http-equiv="refresh"' in response.content
    assert len(queued) == 1 and not ReportRunPdf.objects.exists()
    # A refresh while it waits queues nothing more.
    with django_capture_on_commit_callbacks(execute=False) as again:
        assert client.get(_pdf_url(workspace, run)).status_code == 202
    assert again == []
    # The worker (eager Celery here) renders it; the next download is the stored PDF.
    queued[0]()
    stored = ReportRunPdf.objects.get(run=run)
    response = client.get(_pdf_url(workspace, run))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content == bytes(stored.content) and response.content.startswith(b"%PDF")
    assert f'filename="report-{run.period}.pdf"' in response["Content-Disposition"]


def test_a_lost_render_is_queued_again_after_the_lease(client_as, viewer, workspace, product,
                                                       django_capture_on_commit_callbacks):
    run = _run(SubscriptionFactory(product=product))
    ReportRun.objects.filter(id=run.id).update(pdf_queued_at=timezone.now() - timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=False) as queued:
        client_as(viewer).get(_pdf_url(workspace, run))
    assert queued == []
    ReportRun.objects.filter(id=run.id).update(pdf_queued_at=timezone.now() - services.PDF_LEASE - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True) as queued:
        assert client_as(viewer).get(_pdf_url(workspace, run)).status_code == 202
    assert len(queued) == 1 and ReportRunPdf.objects.filter(run=run).exists()


def test_the_stored_pdf_is_the_runs_own_data(workspace, product):
    first = _run(SubscriptionFactory(product=product), "2026-W47", title="First quarter review")
    second = _run(SubscriptionFactory(product=product), "2026-W48", title="Second look")
    assert services.report_run_pdf_render(run_id=second.id) == "rendered"
    assert services.report_run_pdf_render(run_id=first.id) == "rendered"
    assert services.report_run_pdf_render(run_id=first.id) == "stored"  # idempotent: one row, kept
    assert ReportRunPdf.objects.count() == 2
    assert b"First quarter review" in _pdf_title(bytes(ReportRunPdf.objects.get(run=first).content))
    assert b"Second look" in _pdf_title(bytes(ReportRunPdf.objects.get(run=second).content))


def test_creating_a_run_renders_its_pdf_in_the_worker(client_as, editor, workspace, product,
                                                      django_capture_on_commit_callbacks):
    sub = SubscriptionFactory(product=product, owner=editor)
    with django_capture_on_commit_callbacks(execute=True):
        client_as(editor).post(reverse("reports:send_now", kwargs={"ws": workspace.slug, "subscription_id": sub.id}))
    run = sub.runs.get()
    assert ReportRunPdf.objects.filter(run=run).exists()
    response = client_as(editor).get(_pdf_url(workspace, run))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    # The live report's PDF link is the latest run's stored PDF.
    live = client_as(editor).get(reverse("reports:report", kwargs={"ws": workspace.slug, "subscription_id": sub.id}),
                                 {"format": "pdf"})
    assert live.status_code == 302 and live["Location"] == _pdf_url(workspace, run)


def test_the_live_report_of_a_subscription_never_sent_has_no_pdf_yet(client_as, viewer, workspace, product,
                                                                     django_capture_on_commit_callbacks):
    sub = SubscriptionFactory(product=product)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client_as(viewer).get(reverse("reports:report", kwargs={"ws": workspace.slug,
                                                                            "subscription_id": sub.id}),
                                         {"format": "pdf"})
    assert response.status_code == 404 and b"No PDF yet" in response.content and queued == []


def test_another_workspaces_run_pdf_is_404_and_queues_nothing(client_as, viewer, workspace,
                                                              django_capture_on_commit_callbacks):
    other = _run(SubscriptionFactory(product=ProductFactory(workspace=WorkspaceFactory())))
    services.report_run_pdf_render(run_id=other.id)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert client_as(viewer).get(_pdf_url(workspace, other)).status_code == 404
        assert client_as(viewer).get(reverse("reports:run", kwargs={"ws": other.subscription.workspace.slug,
                                                                    "run_id": other.id}) + "?format=pdf"
                                     ).status_code == 404
    assert queued == []
    assert ReportRun.objects.get(id=other.id).pdf_queued_at is None
