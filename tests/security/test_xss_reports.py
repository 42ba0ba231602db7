"""Every payload of xss_corpus.py in what a report shows (subscription name, workspace and product
names, initiatives, objectives, key results, KPIs, releases, stories, action plans), in outside
recipient addresses, webhook URLs and descriptions and run errors comes out inert in the report
page, the HTML e-mail (plain text in its text part, one-line subject), the PDF and the HTML
WeasyPrint renders it from, the unsubscribe page, the settings pages and the failure e-mail."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from backlog import services as backlog_services
from metrics import services as metrics_services
from pmhub.clock import today_in
from pmhub.models import Workspace
from reports import rendering, services
from reports.models import SECTION_KEYS, ReportRun, WebhookDelivery
from roadmaps import services as roadmap_services
from roadmaps.models import Product, Release

from .xss_cases import CASES, assert_inert, assert_json_data, browsable_inert, browser, get_inert, payload, pdf_actions

pytestmark = pytest.mark.django_db

FIELDS = [
    "subscription.name", "product.name", "workspace.name", "late.title", "objective.title", "key_result.title",
    "kpi.name", "release.name", "released.name", "story.title", "plan.title", "recipient.local", "webhook.path",
    "webhook.description", "run.error", "other_product.name", "on_track.title", "delivery.error",
]


def _outside_email(text):
    """The payload as the quoted local part of an address when that is a valid address, else None."""
    from django.core.validators import validate_email

    email = f'"{text}"@example.com'.lower()
    try:
        validate_email(email)
    except ValidationError:
        return None
    return email


def _reports(case, workspace, admin):
    p = {name: payload(case, k) for k, name in enumerate(FIELDS)}
    Workspace.objects.filter(pk=workspace.pk).update(name=p["workspace.name"][:120])
    workspace.refresh_from_db()
    product = Product.objects.create(workspace=workspace, name=p["product.name"][:120])
    Product.objects.create(workspace=workspace, name=p["other_product.name"][:120])
    roadmap_services.initiative_create(actor=admin, product=product, data={
        "title": p["late.title"], "status": "in_progress", "start_date": date(2020, 1, 1),
        "end_date": date(2020, 2, 1)})
    roadmap_services.initiative_create(actor=admin, product=product, data={"title": p["on_track.title"],
                                                                           "status": "planned"})
    objective = roadmap_services.objective_create(actor=admin, product=product, data={
        "title": p["objective.title"], "quarter": "2026-Q4"})
    roadmap_services.key_result_create(actor=admin, objective=objective, data={
        "title": p["key_result.title"], "target_value": Decimal(10), "current_value": Decimal(3)})
    kpi = metrics_services.kpi_create(user=admin, product=product, data={"name": p["kpi.name"], "unit": "percent"})
    # Two measurements: the report draws the KPI's trend chart, its name in the title, legend and summary.
    metrics_services.measurements_upsert(user=admin, kpi=kpi, items=[
        {"period": today_in(workspace.time_zone) - timedelta(days=10), "value": Decimal(1)},
        {"period": today_in(workspace.time_zone), "value": Decimal(2)}])
    metrics_services.action_plan_create(user=admin, kpi=kpi, data={"title": p["plan.title"]})
    Release.objects.create(product=product, name=p["release.name"], release_date=date(2099, 1, 1))
    shipped = Release.objects.create(product=product, name=p["released.name"], release_date=date(2099, 2, 1))
    roadmap_services.release_mark_released(actor=admin, release=shipped)
    backlog_services.story_create(actor=admin, product=product, title=p["story.title"], points=3)
    outside = _outside_email(p["recipient.local"])
    subscription = services.subscription_create(
        user=admin, workspace=workspace, name=p["subscription.name"], sections=list(SECTION_KEYS),
        member_ids=[admin.id], emails=[outside] if outside else [])
    whole = services.subscription_create(user=admin, workspace=workspace, name=p["subscription.name"] + " (all)",
                                         sections=list(SECTION_KEYS), member_ids=[admin.id])
    services.subscription_update(user=admin, subscription=subscription, data={"product": product})
    endpoint = services.webhook_endpoint_create(user=admin, workspace=workspace,
                                                url=f"https://hooks.example.com/{p['webhook.path']}"[:500],
                                                events=["story.created"], description=p["webhook.description"])
    WebhookDelivery.objects.create(endpoint=endpoint, event="story.created", status="failed",
                                   error=p["delivery.error"], payload={"title": p["story.title"]})
    return {"product": product, "subscription": subscription, "whole": whole, "endpoint": endpoint,
            "outside": outside, "p": p}


def _email_parts(message):
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html" and message.content_subtype == "plain"
    return message.body, html


def test_the_pdf_check_finds_a_javascript_link_weasyprint_would_write():
    from weasyprint import HTML

    pdf = HTML(string='<a href="javascript:alert(1)">x</a><a href="https://example.com/">y</a>').write_pdf()
    assert pdf_actions(pdf) == [b"/URI (javascript:"]


@pytest.mark.parametrize("case", CASES)
def test_payloads_are_inert_in_report_pages_emails_and_pdfs(case, admin, workspace, django_capture_on_commit_callbacks):
    world = _reports(case, workspace, admin)
    subscription = world["subscription"]
    signed_in = browser(admin)
    with django_capture_on_commit_callbacks(execute=True):
        assert signed_in.post(reverse("reports:send_now", kwargs={"ws": workspace.slug,
                                                                  "subscription_id": subscription.id})).status_code == 302
    run = subscription.runs.get()
    assert run.status == ReportRun.Status.SENT
    messages = [m for m in mail.outbox if m.subject == rendering.report_subject(run.data)]
    assert {m.to[0] for m in messages} == {admin.email.lower(), *([world["outside"]] if world["outside"] else [])}
    for message in messages:
        assert "\n" not in message.subject and "\r" not in message.subject
        text, html = _email_parts(message)
        assert_inert(html, f"report e-mail to {message.to[0]}")
        assert subscription.name in text and "&lt;" not in text  # the text part is plain text, not HTML
    # The page, the stored run and the preview; every list of the report holds a payload.
    ws, kw = workspace.slug, {"ws": workspace.slug, "subscription_id": subscription.id}
    for url in (reverse("reports:report", kwargs=kw), reverse("reports:run", kwargs={"ws": ws, "run_id": run.id}),
                reverse("reports:report", kwargs=kw | {"subscription_id": world["whole"].id}),
                reverse("reports:preview", kwargs={"ws": ws}) + f"?product={world['product'].id}",
                reverse("reports:preview", kwargs={"ws": ws}),
                reverse("reports:list", kwargs={"ws": ws}), reverse("reports:detail", kwargs=kw),
                reverse("reports:webhooks", kwargs={"ws": ws}),
                reverse("reports:webhook_detail", kwargs={"ws": ws, "endpoint_id": world["endpoint"].id}),
                reverse("workspace_home", kwargs={"ws": ws}), reverse("activity", kwargs={"ws": ws}),
                reverse("notification_preferences")):
        get_inert(signed_in, url)
    # The PDF: the HTML WeasyPrint reads is inert, and the PDF carries no script or javascript: link.
    assert_inert(rendering.report_render(run.data, fmt="html"), "HTML of the PDF")
    response = signed_in.get(reverse("reports:run", kwargs={"ws": ws, "run_id": run.id}) + "?format=pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = response.content
    assert pdf.startswith(b"%PDF") and not pdf_actions(pdf), pdf_actions(pdf)
    # An outside recipient's unsubscribe page (no sign-in), before and after.
    outside = subscription.recipients.filter(user__isnull=True).first()
    if outside is not None:
        url = reverse("reports:unsubscribe", kwargs={"ws": ws, "token": services.unsubscribe_token(outside)})
        anonymous = browser()
        get_inert(anonymous, url, "unsubscribe page")
        response = anonymous.post(url)
        assert response.status_code == 200
        assert_inert(response.content.decode(), "unsubscribed page")


@pytest.mark.parametrize("case", CASES[::3])
def test_payloads_are_inert_in_the_report_failure_email_and_history(case, admin, workspace,
                                                                    django_capture_on_commit_callbacks):
    world = _reports(case, workspace, admin)
    subscription = world["subscription"]
    run, _ = services.run_create(subscription=subscription, period="2026-W48")
    with django_capture_on_commit_callbacks(execute=True):
        services.report_run_fail(run_id=run.id, error=world["p"]["run.error"])
    [message] = [m for m in mail.outbox if "could not be sent" in m.subject]
    assert "\n" not in message.subject and "\r" not in message.subject
    assert_inert(_email_parts(message)[1], "report failure e-mail")
    client = browser(admin)
    get_inert(client, reverse("reports:detail", kwargs={"ws": workspace.slug, "subscription_id": subscription.id}))
    get_inert(client, reverse("notifications"))


@pytest.mark.parametrize("name", ["Weekly\r\nBcc: victim@example.com", "Weekly\nX-Injected: 1", "Weekly\rreport"])
def test_line_breaks_in_a_report_name_do_not_reach_the_subject(name, admin, workspace,
                                                               django_capture_on_commit_callbacks):
    subscription = services.subscription_create(user=admin, workspace=workspace, name=name, sections=["roadmap"],
                                                member_ids=[admin.id])
    with django_capture_on_commit_callbacks(execute=True):
        run = services.report_send_now(user=admin, subscription=subscription)
    run.refresh_from_db()
    assert run.status == ReportRun.Status.SENT, run.error
    [message] = mail.outbox
    assert "\n" not in message.subject and "\r" not in message.subject
    assert message.subject.startswith("Weekly") and message.bcc == []
    assert "victim" not in str(message.message()["Bcc"] or "")


def test_payload_names_come_back_as_json_data(api_as, admin, workspace):
    for case in CASES[::9]:
        world = _reports(case, workspace, admin)
        api = api_as(admin)
        subscription, endpoint = world["subscription"], world["endpoint"]
        assert_json_data(api.get(f"/api/v1/report-subscriptions/{subscription.id}/"), subscription.name)
        assert_json_data(api.get(f"/api/v1/webhook-endpoints/{endpoint.id}/"), endpoint.description, endpoint.url)
        browsable_inert(browser(admin), f"/api/v1/report-subscriptions/?workspace={workspace.id}")
