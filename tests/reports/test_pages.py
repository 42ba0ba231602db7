"""Pages: subscribe through the form, preview, history, PDF, unsubscribe without signing in, webhooks."""

import pytest
from django.urls import reverse

from reports import services
from reports.models import ReportRecipient, ReportSubscription, WebhookEndpoint

from .factories import InitiativeFactory, SubscriptionFactory, subscribe

pytestmark = pytest.mark.django_db


def test_editor_subscribes_through_the_form(client_as, editor, member, workspace, product):
    response = client_as(editor).post(reverse("reports:list", kwargs={"ws": workspace.slug}), {
        "name": "Stakeholder update", "product": product.id, "cadence": "weekly", "weekday": 4, "day_of_month": 1,
        "hour": 9, "sections": ["roadmap", "releases"], "member_ids": [member.id],
        "emails": "cfo@outside.test\nboard@outside.test"})
    assert response.status_code == 302
    sub = ReportSubscription.objects.get()
    assert (sub.weekday, sub.hour, sub.sections, sub.owner) == (4, 9, ["roadmap", "releases"], editor)
    assert sub.recipients.count() == 3


def test_form_errors_are_400_and_nothing_is_created(client_as, editor, workspace):
    response = client_as(editor).post(reverse("reports:list", kwargs={"ws": workspace.slug}), {
        "name": "", "cadence": "weekly", "weekday": 0, "day_of_month": 1, "hour": 8, "sections": ["roadmap"],
        "emails": "not an address"})
    assert response.status_code == 400
    assert not ReportSubscription.objects.exists()


def test_preview_page_shows_the_report_and_escapes_user_text(client_as, viewer, workspace, product):
    from datetime import date

    InitiativeFactory(product=product, title="<img src=x onerror=alert(1)>", status="planned",
                      end_date=date(2020, 1, 1))
    response = client_as(viewer).get(reverse("reports:preview", kwargs={"ws": workspace.slug}),
                                     {"product": product.id, "sections": ["roadmap"]})
    assert response.status_code == 200
    assert b"&lt;img src=x onerror=alert(1)&gt;" in response.content
    assert b"<img src=x" not in response.content


def test_pdf_download(client_as, viewer, workspace, product, django_capture_on_commit_callbacks):
    sub = SubscriptionFactory(product=product)
    with django_capture_on_commit_callbacks(execute=True):
        services.run_create(subscription=sub, period="2026-W48")
    response = client_as(viewer).get(reverse("reports:report", kwargs={"ws": workspace.slug,
                                                                        "subscription_id": sub.id}), {"format": "pdf"},
                                     follow=True)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_send_now_and_history(client_as, editor, workspace, product, django_capture_on_commit_callbacks):
    sub = subscribe(SubscriptionFactory(product=product, owner=editor), "a@x.test")
    client = client_as(editor)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("reports:send_now", kwargs={"ws": workspace.slug, "subscription_id": sub.id}))
    page = client.get(reverse("reports:detail", kwargs={"ws": workspace.slug, "subscription_id": sub.id}))
    assert b"a@x.test: Sent" in page.content


def test_outside_recipient_unsubscribes_with_the_signed_link_without_signing_in(client, workspace, product,
                                                                               django_capture_on_commit_callbacks):
    from django.core import mail

    sub = subscribe(SubscriptionFactory(product=product), "cfo@outside.test")
    with django_capture_on_commit_callbacks(execute=True):
        services.run_create(subscription=sub, period="2026-W48")
    link = mail.outbox[0].extra_headers["List-Unsubscribe"].strip("<>")
    assert link in mail.outbox[0].body
    path = link.replace("http://127.0.0.1:8000", "")

    assert client.get(path).status_code == 200  # a confirmation page: link scanners only GET
    assert ReportRecipient.objects.get().unsubscribed_at is None
    response = client.post(path)
    assert response.status_code == 200 and b"no longer receives" in response.content
    assert ReportRecipient.objects.get().unsubscribed_at is not None

    with django_capture_on_commit_callbacks(execute=True):
        services.run_create(subscription=sub, period="2026-W49")
    assert len(mail.outbox) == 1


def test_a_tampered_unsubscribe_link_is_404(client, workspace, product):
    sub = subscribe(SubscriptionFactory(product=product), "cfo@outside.test")
    token = services.unsubscribe_token(sub.recipients.get())
    assert client.post(f"/w/{workspace.slug}/reports/unsubscribe/{token}x/").status_code == 404
    assert client.post(f"/w/globex/reports/unsubscribe/{token}/").status_code == 404
    assert ReportRecipient.objects.get().unsubscribed_at is None


def test_admin_adds_a_webhook_and_sees_the_secret_once(client_as, admin, workspace):
    client = client_as(admin)
    url = reverse("reports:webhooks", kwargs={"ws": workspace.slug})
    response = client.post(url, {"url": "https://hooks.acme.test/pmhub", "events": ["story.moved"]})
    endpoint = WebhookEndpoint.objects.get()
    assert response.status_code == 200 and endpoint.secret.encode() in response.content
    assert endpoint.secret.encode() not in client.get(url).content
    detail = reverse("reports:webhook_detail", kwargs={"ws": workspace.slug, "endpoint_id": endpoint.id})
    client.post(detail, {"action": "disable"})
    endpoint.refresh_from_db()
    assert not endpoint.active
    client.post(detail, {"action": "delete"})
    assert not WebhookEndpoint.objects.exists()


def test_demo_seed_is_idempotent(workspace, admin):
    from reports import demo

    demo.seed(workspace=workspace, users={"demo": admin})
    demo.seed(workspace=workspace, users={"demo": admin})
    assert ReportSubscription.objects.count() == 1
    assert ReportSubscription.objects.get().recipients.count() == 1


def test_report_build_and_render_for_a_benchmark(workspace, product):
    """The seam a benchmark times: one report build plus its HTML render."""
    from reports.rendering import report_render

    sub = SubscriptionFactory(product=product)
    data = services.report_build(subscription=sub, period="2026-W48")
    from reports.models import SECTION_KEYS

    assert data["period"] == "2026-W48" and len(data["sections"]) == len(SECTION_KEYS) == 8
    assert "<table" in report_render(data)


def test_home_panel_lists_recent_runs(client_as, viewer, workspace, product):
    from reports.models import ReportRun

    sub = SubscriptionFactory(product=product, name="Board pack")
    ReportRun.objects.create(subscription=sub, period="2026-11", status="failed")
    response = client_as(viewer).get(reverse("workspace_home", kwargs={"ws": workspace.slug}))
    assert b"Board pack" in response.content and b"failed" in response.content
