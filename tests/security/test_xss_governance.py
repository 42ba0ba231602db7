"""Every payload of xss_corpus.py in the governance app's fields (risk and issue titles,
descriptions, mitigation plans, mediation-log notes, the owner's name, and the roadmap items they
are linked to) comes out inert in the register, the heat map, the item and form pages, the
roadmap's flags (timeline, board, list, initiative, release), the dashboards, the home page, the
activity log, the notification list and e-mail, and the progress report (page, e-mail HTML and
text); the API returns them as JSON data."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from governance import services
from pmhub.models import User
from reports.rendering import report_render
from reports.services import report_build
from roadmaps import services as roadmap_services
from roadmaps.models import Product, Release

from .xss_cases import CASES, assert_inert, assert_json_data, browsable_inert, browser, get_inert, payload

pytestmark = pytest.mark.django_db

FIELDS = ["risk.title", "risk.description", "risk.mitigation", "issue.title", "note.text", "owner.name",
          "initiative.title", "release.name", "product.name", "statement.benefit", "statement.processes",
          "statement.people", "statement.risk", "statement.assumptions", "decision.comment", "rejection.comment",
          "template.name", "template.item", "launch.item", "override.reason", "shipped.name", "portfolio.reason",
          "lifecycle.reason", "evidence.kpi"]


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(datetime(2026, 6, 10, 9, 0, tzinfo=UTC), tick=False):
        yield


def _governance(case, workspace, admin, editor):
    p = {name: payload(case, k) for k, name in enumerate(FIELDS)}
    User.objects.filter(pk=editor.pk).update(name=p["owner.name"][:150])
    editor.refresh_from_db()
    product = Product.objects.create(workspace=workspace, name=p["product.name"][:120])
    release = Release.objects.create(product=product, name=p["release.name"][:120], release_date=date(2026, 8, 1))
    initiative = roadmap_services.initiative_create(actor=admin, product=product, data={
        "title": p["initiative.title"][:200], "status": "planned", "horizon": "now",
        "start_date": date(2026, 6, 1), "end_date": date(2026, 8, 1)})
    risk = services.risk_create(user=admin, product=product, data={
        "title": p["risk.title"][:200], "description": p["risk.description"], "mitigation": p["risk.mitigation"],
        "likelihood": 5, "impact": 5, "owner": editor, "initiatives": [initiative], "releases": [release],
        "review_date": date(2026, 6, 1)})
    issue = services.risk_create(user=admin, product=product, data={
        "title": p["issue.title"][:200], "kind": "issue", "impact": 4, "owner": editor})
    services.issue_note_add(user=admin, risk=issue, text=p["note.text"][:2000])
    # A statement written and submitted by the editor, rejected, revised, resubmitted and approved by the admin.
    statement = services.statement_save(user=editor, product=product, initiative=initiative, data={
        f: p[f"statement.{f}"][:5000] for f in ("benefit", "processes", "people", "risk", "assumptions")})
    services.statement_submit(user=editor, statement=statement, version=statement.version)
    services.statement_decide(user=admin, statement=statement, decision="rejected",
                              comment=p["rejection.comment"][:2000], version=statement.version)
    services.statement_save(user=editor, product=product, statement=statement, version=statement.version,
                            data={"benefit": p["statement.benefit"][:5000]})
    services.statement_submit(user=editor, statement=statement, version=statement.version)
    services.statement_decide(user=admin, statement=statement, decision="approved",
                              comment=p["decision.comment"][:2000], version=statement.version)
    # Launch readiness: a template applied to the release, an item of its own, and a second release
    # shipped with open items and a reason.
    template = services.template_create(user=admin, workspace=workspace, name=p["template.name"][:120],
                                        items=[{"title": p["template.item"][:200], "category": "legal"}])
    services.checklist_apply_template(user=admin, release=release, template=template)
    services.launch_item_create(user=admin, release=release, data={"title": p["launch.item"][:200], "owner": editor})
    shipped = Release.objects.create(product=product, name=p["shipped.name"][:120], release_date=date(2026, 7, 1))
    services.checklist_apply_template(user=admin, release=shipped, template=template)
    roadmap_services.release_mark_released(actor=admin, release=shipped, override_reason=p["override.reason"][:500])
    services.portfolio_entry_save(user=admin, initiative=initiative, data={"value": 8, "cost": 3}, version=None)
    services.portfolio_decide(user=admin, initiative=initiative, decision="fund", version=None,
                              reason=p["portfolio.reason"][:500].strip() or "x")
    services.stage_set(user=admin, product=product, stage="maturity", reason=p["lifecycle.reason"][:500])
    from governance.models import StageProposal

    StageProposal.objects.create(product=product, to_stage="decline", evidence={
        f"KPI {p['evidence.kpi'][:120]}": {"values": [3.0, 2.0], "declining": True}})
    return {"statement": statement, "shipped": shipped, "product": product, "risk": risk, "issue": issue, "initiative": initiative, "release": release, "p": p}


def _pages(workspace, world):
    ws, product = workspace.slug, world["product"]
    kw = {"ws": ws, "product_id": product.id}
    return [
        reverse("governance:risks", kwargs=kw),
        reverse("governance:risks", kwargs=kw) + "?likelihood=5&impact=5&above=1",
        reverse("governance:risk_new", kwargs=kw),
        *[reverse(name, kwargs=kw | {"risk_id": r.id}) for r in (world["risk"], world["issue"])
          for name in ("governance:risk", "governance:risk_edit")],
        reverse("roadmaps:timeline", kwargs=kw), reverse("roadmaps:board", kwargs=kw),
        reverse("roadmaps:list", kwargs=kw),
        reverse("roadmaps:initiative_work", kwargs=kw | {"initiative_id": world["initiative"].id}),
        reverse("roadmaps:release", kwargs=kw | {"release_id": world["release"].id}),
        reverse("governance:statement", kwargs=kw | {"initiative_id": world["initiative"].id}),
        reverse("governance:launch", kwargs=kw | {"release_id": world["release"].id}),
        reverse("governance:launch", kwargs=kw | {"release_id": world["shipped"].id}),
        reverse("roadmaps:release", kwargs=kw | {"release_id": world["shipped"].id}),
        reverse("roadmaps:releases", kwargs=kw),
        reverse("governance:templates", kwargs={"ws": ws}),
        reverse("governance:portfolio", kwargs={"ws": ws}),
        reverse("governance:lifecycle", kwargs=kw),
        reverse("governance:portfolio_entry", kwargs={"ws": ws, "initiative_id": world["initiative"].id}),
        reverse("reports:preview", kwargs={"ws": ws}) + f"?product={product.id}&sections=launches",
        reverse("metrics_product_dashboard", kwargs=kw), reverse("metrics_workspace_dashboard", kwargs={"ws": ws}),
        reverse("workspace_home", kwargs={"ws": ws}), reverse("activity", kwargs={"ws": ws}),
        reverse("reports:preview", kwargs={"ws": ws}) + f"?product={product.id}&sections=risks",
        reverse("search") + "?q=" + "pmhx",
    ]


@pytest.mark.parametrize("case", CASES)
def test_payloads_in_governance_fields_are_inert_in_pages_emails_and_the_report(
        case, admin, editor, workspace, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # the appetite check and its e-mail run on commit
        world = _governance(case, workspace, admin, editor)
    from governance.tasks import risks_review_due_notify

    with django_capture_on_commit_callbacks(execute=True):
        assert risks_review_due_notify() == 1
    client = browser(admin)
    for url in _pages(workspace, world):
        html = get_inert(client, url)
        assert 'href="javascript' not in html.lower()
    get_inert(browser(editor), reverse("notifications"), "risk notifications")
    messages = [m for m in mail.outbox if editor.email in m.to]
    assert len(messages) >= 4  # above appetite, review date passed, rejected, approved
    # (The approvers' request ran after the decisions, on commit: nothing awaited them any more, so
    # none was sent; tests/governance/test_statements.py checks the request itself.)
    for message in messages:
        assert "\n" not in message.subject and "\r" not in message.subject
        assert_inert(message.alternatives[0][0], f"notification e-mail {message.subject[:40]}")
    data = report_build(product=world["product"], workspace=workspace, section_keys=["risks"])
    assert data["sections"][0]["data"]["above"] == 2
    assert_inert(report_render(data, fmt="html"), "report e-mail")
    launches = report_build(product=world["product"], workspace=workspace, section_keys=["launches"])
    assert launches["sections"][0]["data"]["items"][0]["required_open"] == 2
    assert_inert(report_render(launches, fmt="html"), "report e-mail, launches")
    assert world["risk"].title in report_render(data, fmt="text")  # plain text: the title as typed, no markup


@pytest.mark.parametrize("case", CASES[::9])
def test_payloads_in_governance_fields_come_back_as_json_data(case, api_as, admin, editor, workspace):
    world = _governance(case, workspace, admin, editor)
    api = api_as(admin)
    risk, issue = world["risk"], world["issue"]
    assert_json_data(api.get(f"/api/v1/risks/{risk.id}/"), risk.title, risk.description, risk.mitigation)
    assert_json_data(api.get("/api/v1/risks/", {"product": world["product"].id}), issue.title,
                     issue.notes.get().text)
    browsable_inert(browser(admin), f"/api/v1/risks/?product={world['product'].id}")
    statement = world["statement"]
    assert_json_data(api.get(f"/api/v1/impact-statements/{statement.id}/"), statement.revisions.get(number=1).people,
                     statement.decisions.get(decision="rejected").comment)
    browsable_inert(browser(admin), f"/api/v1/impact-statements/{statement.id}/")
    assert_json_data(api.get("/api/v1/launch-items/", {"release": world["release"].id}), world["p"]["launch.item"][:200])
    assert_json_data(api.get("/api/v1/ship-overrides/"), world["p"]["override.reason"][:500])
    assert_json_data(api.get("/api/v1/launch-templates/"), world["p"]["template.name"][:120].strip())


@pytest.mark.parametrize("case", CASES[::5])
def test_payloads_in_the_approval_request_email_are_inert(case, admin, editor, workspace,
                                                          django_capture_on_commit_callbacks):
    p = {name: payload(case, k) for k, name in enumerate(FIELDS)}
    product = Product.objects.create(workspace=workspace, name=p["product.name"][:120])
    initiative = roadmap_services.initiative_create(actor=admin, product=product, data={
        "title": p["initiative.title"][:200], "status": "proposed"})
    statement = services.statement_save(user=editor, product=product, initiative=initiative,
                                        data={"benefit": p["statement.benefit"][:5000]})
    with django_capture_on_commit_callbacks(execute=True):
        services.statement_submit(user=editor, statement=statement, version=statement.version)
    [message] = [m for m in mail.outbox if admin.email in m.to]
    assert "\n" not in message.subject and "\r" not in message.subject
    assert_inert(message.alternatives[0][0], "approval request e-mail")
    get_inert(browser(admin), reverse("notifications"), "approval request notification")
