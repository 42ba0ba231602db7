"""Every payload of xss_corpus.py in the metrics app's fields (KPI name and Markdown description,
action plan title and Markdown steps, linked work, the measurement CSV upload: file name,
header and cells) comes out inert in the KPI, dashboard, action plan and upload preview pages,
in the off-track e-mail and as JSON; the dashboard CSV export neutralises spreadsheet formulas
exactly as pmhub.csvsafe.safe_cell does."""

from datetime import date
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from backlog import services as backlog_services
from metrics import services
from pmhub.csvsafe import safe_cell
from pmhub.models import User
from roadmaps import services as roadmap_services
from roadmaps.models import Product
from tests.metrics.factories import staged_upload

from .xss_cases import (
    CASES,
    assert_csv_neutralised,
    assert_inert,
    assert_json_data,
    browsable_inert,
    browser,
    csv_cells,
    get_inert,
    payload,
)

pytestmark = pytest.mark.django_db

FIELDS = [
    "product.name", "kpi.name", "kpi.description", "owner.name", "plan.title", "plan.steps", "objective.title",
    "initiative.title", "epic.title", "key_result.title", "upload.filename", "upload.cell", "upload.value",
    "bad_upload.header", "off_track.name", "off_track.description", "bad_upload.filename",
]


def _metrics(case, workspace, admin, editor):
    p = {name: payload(case, k) for k, name in enumerate(FIELDS)}
    User.objects.filter(pk=editor.pk).update(name=p["owner.name"][:150])
    editor.refresh_from_db()
    product = Product.objects.create(workspace=workspace, name=p["product.name"][:120])
    objective = roadmap_services.objective_create(actor=admin, product=product, data={
        "title": p["objective.title"], "quarter": "2026-Q4"})
    initiative = roadmap_services.initiative_create(actor=admin, product=product,
                                                    data={"title": p["initiative.title"], "status": "planned"})
    epic = backlog_services.epic_create(actor=admin, product=product, title=p["epic.title"])
    kpi = services.kpi_create(user=admin, product=product, data={
        "name": p["kpi.name"], "description": p["kpi.description"], "owner": editor, "unit": "count",
        "target_value": Decimal(100), "target_date": date(2026, 12, 31), "initiatives": [initiative],
        "epics": [epic]})
    roadmap_services.key_result_create(actor=admin, objective=objective, data={
        "title": p["key_result.title"], "target_value": Decimal(10), "kpi": kpi})
    services.measurements_upsert(user=admin, kpi=kpi, items=[{"period": date(2026, 11, 2), "value": 40}])
    plan = services.action_plan_create(user=admin, kpi=kpi, data={"title": p["plan.title"], "steps": p["plan.steps"],
                                                                  "owner": editor})
    # Below its critical threshold: the KPI goes off track, a plan opens and the owner is e-mailed.
    off_track = services.kpi_create(user=admin, product=product, data={
        "name": p["off_track.name"], "description": p["off_track.description"], "owner": editor,
        "warning_threshold": Decimal(50), "critical_threshold": Decimal(10)})
    services.measurements_upsert(user=admin, kpi=off_track, items=[{"period": date(2026, 11, 2), "value": 1}])
    upload = staged_upload(user=admin, kpi=kpi, filename=p["upload.filename"], content=(
        f"period,value\n2026-11-03,7\n{_quote(p['upload.cell'])},3\n2026-11-04,{_quote(p['upload.value'])}\n"
    ).encode())
    bad = staged_upload(user=admin, kpi=kpi, filename=p["bad_upload.filename"],
                        content=f"{_quote(p['bad_upload.header'])},value\n2026-11-03,1\n".encode())
    return {"product": product, "kpi": kpi, "off_track": off_track, "plan": plan, "uploads": [upload, bad], "p": p}


def _quote(text):
    return '"' + text.replace('"', '""') + '"'


def _pages(workspace, world):
    ws, product, kpi = workspace.slug, world["product"], world["kpi"]
    kw = {"ws": ws, "product_id": product.id}
    pages = [
        reverse("workspace_home", kwargs={"ws": ws}),
        reverse("activity", kwargs={"ws": ws}),
        reverse("metrics_kpi_list", kwargs=kw),
        reverse("metrics_kpi_detail", kwargs=kw | {"kpi_id": kpi.id}),
        reverse("metrics_kpi_detail", kwargs=kw | {"kpi_id": world["off_track"].id}),
        reverse("metrics_product_dashboard", kwargs=kw),
        reverse("metrics_workspace_dashboard", kwargs={"ws": ws}) + "?range=custom&start=2026-10-01&end=2026-11-30",
        reverse("metrics_plan_list", kwargs={"ws": ws}),
        reverse("roadmaps:objectives", kwargs=kw),
    ]
    pages += [reverse("metrics_plan_detail", kwargs={"ws": ws, "plan_id": plan.id})
              for plan in world["kpi"].action_plans.all() | world["off_track"].action_plans.all()]
    pages += [reverse("metrics_upload", kwargs=kw | {"kpi_id": kpi.id, "upload_id": u.id}) for u in world["uploads"]]
    return pages


@pytest.mark.parametrize("case", CASES)
def test_payloads_in_metrics_fields_and_csv_uploads_are_inert_in_pages_and_emails(case, admin, editor, workspace,
                                                                                  django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        world = _metrics(case, workspace, admin, editor)
    assert world["off_track"].action_plans.exists()
    client = browser(admin)
    for url in _pages(workspace, world):
        get_inert(client, url)
    upload, bad = world["uploads"]
    assert upload.errors and bad.errors  # the payload cells and header are reported as errors, i.e. shown
    [message] = [m for m in mail.outbox if "off track" in m.subject]
    assert "\n" not in message.subject and "\r" not in message.subject
    assert_inert(message.alternatives[0][0], "off-track e-mail")
    get_inert(browser(editor), reverse("notifications"), "off-track notification")


@pytest.mark.parametrize("case", CASES)
def test_dashboard_csv_export_neutralises_formulas(case, admin, editor, workspace):
    p = {name: payload(case, k) for k, name in enumerate(FIELDS)}
    product = Product.objects.create(workspace=workspace, name="Acme")
    kpi = services.kpi_create(user=admin, product=product, data={"name": "x"})
    type(kpi).objects.filter(pk=kpi.pk).update(name=p["kpi.name"])  # as typed: a leading tab or CR included
    other = services.kpi_create(user=admin, product=product, data={"name": p["off_track.name"]})
    services.measurements_upsert(user=admin, kpi=other, items=[{"period": date(2026, 11, 2), "value": -3}])
    client = browser(admin)
    query = "?range=custom&start=2026-10-01&end=2026-11-30"
    for url in (reverse("metrics_product_dashboard_csv", kwargs={"ws": workspace.slug, "product_id": product.id}),
                reverse("metrics_workspace_dashboard_csv", kwargs={"ws": workspace.slug})):
        response = client.get(url + query)
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
        body = response.content.decode()
        assert_csv_neutralised(body, url)
        cells = csv_cells(body)
        for name in (p["kpi.name"], other.name):
            assert safe_cell(name) in cells, f"{name!r} not written as {safe_cell(name)!r}"
        assert "-3.0" in cells  # numbers stay numbers


@pytest.mark.parametrize("case", CASES[::9])
def test_payloads_in_metrics_fields_come_back_as_json_data(case, api_as, admin, editor, workspace):
    world = _metrics(case, workspace, admin, editor)
    kpi, plan = world["kpi"], world["plan"]
    api = api_as(admin)
    assert_json_data(api.get(f"/api/v1/kpis/{kpi.id}/"), kpi.name, kpi.description)
    assert_json_data(api.get(f"/api/v1/action-plans/{plan.id}/"), plan.title, plan.steps)
    data_url = reverse("metrics_product_dashboard_data", kwargs={"ws": workspace.slug,
                                                                 "product_id": world["product"].id})
    assert_json_data(browser(admin).get(data_url), kpi.name)
    browsable_inert(browser(admin), f"/api/v1/kpis/{kpi.id}/")


def test_payload_posted_as_a_kpi_is_inert_when_the_form_comes_back(admin, workspace):
    product = Product.objects.create(workspace=workspace, name="Acme")
    client = browser(admin)
    url = reverse("metrics_kpi_list", kwargs={"ws": workspace.slug, "product_id": product.id})
    for case in CASES:
        # target without a date: refused, the form comes back with what was typed
        response = client.post(url, {"name": payload(case, 0), "description": payload(case, 1), "unit": "count",
                                     "direction": "higher", "aggregation": "sum", "cadence": "daily",
                                     "target_value": "5"})
        assert response.status_code == 400
        assert_inert(response.content.decode(), "KPI form after an error")
