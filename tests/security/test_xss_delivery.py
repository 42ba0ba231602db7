"""Every payload of xss_corpus.py in the delivery app's fields (iterations, release scope, change
requests and their e-mail, the CSV import: file name, headers and every cell) comes out inert in
its pages, the import preview and the imported backlog; the backlog CSV export neutralises
spreadsheet formulas (pmhub.csvsafe) and reads back to the same text on import."""

import csv
import io
from datetime import date

import pytest
from django.core import mail
from django.urls import reverse

from backlog import services as backlog_services
from backlog.models import Story
from delivery import services
from pmhub.csvsafe import safe_cell
from pmhub.models import User
from roadmaps.models import Product, Release
from tests.delivery.factories import staged_import

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
    "iteration.name", "iteration.goal", "finished.name", "planned.title", "backlog.title", "release.name",
    "cr.reason", "added.title", "assignee.name", "epic.title", "story.label", "story.description",
    "csv.title", "csv.description", "csv.label", "csv.epic", "csv.status", "csv.key", "csv.header",
    "csv.assignee", "csv.points", "csv.filename", "approval.note", "csv.bad_title", "decision.note",
]


def _csv(p) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Issue key", "Summary", "Description", "Labels", "Epic Link", "Status", p["csv.header"]])
    writer.writerow([p["csv.key"][:60], p["csv.title"], p["csv.description"], p["csv.label"].replace(" ", "")[:40],
                     p["csv.epic"], "To Do", "x"])
    writer.writerow(["", p["csv.bad_title"], "", "", "", p["csv.status"], "x"])
    out.write(f"K-3,Third,,,,Done,x\nK-4,Fourth,,,,{_quote(p['csv.assignee'])},x\n")
    out.write(f"K-5,{_quote(p['csv.points'])},,,,Done,x\n")
    return out.getvalue().encode()


def _quote(text):
    return '"' + text.replace('"', '""') + '"'


def _delivery(case, workspace, admin, editor):
    p = {name: payload(case, k) for k, name in enumerate(FIELDS)}
    User.objects.filter(pk=editor.pk).update(name=p["assignee.name"][:150])
    editor.refresh_from_db()
    product = Product.objects.create(workspace=workspace, name="Acme Analytics")
    epic = backlog_services.epic_create(actor=admin, product=product, title=p["epic.title"])
    planned = backlog_services.story_create(actor=admin, product=product, title=p["planned.title"], points=3,
                                            assignee_id=editor.id, epic_id=epic.id, labels=[p["story.label"][:40]],
                                            description=p["story.description"])
    backlog_story = backlog_services.story_create(actor=admin, product=product, title=p["backlog.title"], points=2)
    added = backlog_services.story_create(actor=admin, product=product, title=p["added.title"], points=5)
    iteration = services.iteration_create(actor=admin, product=product, name=p["iteration.name"],
                                          goal=p["iteration.goal"], start_date=date(2026, 11, 2),
                                          end_date=date(2026, 11, 13), capacity_points=2)
    services.iteration_add_story(actor=admin, iteration=iteration, story_id=planned.id)
    finished = services.iteration_create(actor=admin, product=product, name=p["finished.name"],
                                         start_date=date(2020, 1, 6), end_date=date(2020, 1, 17), capacity_points=5)
    services.iteration_add_story(actor=admin, iteration=finished, story_id=backlog_story.id)
    release = Release.objects.create(product=product, name=p["release.name"], release_date=date(2027, 3, 1))
    services.scope_change(actor=admin, release=release, story_id=planned.id, kind="add")
    services.scope_approve(actor=admin, release=release, note=p["approval.note"])
    services.scope_change(actor=editor, release=release, story_id=added.id, kind="add", reason=p["cr.reason"])
    services.scope_change(actor=editor, release=release, story_id=backlog_story.id, kind="add", reason="later")
    decided = release.change_requests.get(story=backlog_story)
    services.change_request_decide(actor=admin, change_request=decided, approve=True, note=p["decision.note"])
    job = staged_import(actor=admin, product=product, filename=p["csv.filename"], data=_csv(p))
    services.import_preview(actor=admin, job=job)
    return {"product": product, "iteration": iteration, "finished": finished, "release": release, "job": job,
            "p": p, "planned": planned}


def _pages(workspace, world):
    kw = {"ws": workspace.slug, "product_id": world["product"].id}
    return [
        reverse("workspace_home", kwargs={"ws": workspace.slug}),
        reverse("activity", kwargs={"ws": workspace.slug}),
        reverse("delivery:iterations", kwargs=kw),
        reverse("delivery:iteration", kwargs=kw | {"iteration_id": world["iteration"].id}),
        reverse("delivery:iteration", kwargs=kw | {"iteration_id": world["finished"].id}),
        reverse("delivery:iteration_backlog", kwargs=kw | {"iteration_id": world["iteration"].id}) + "?offset=0",
        reverse("delivery:release_scope", kwargs=kw | {"release_id": world["release"].id}),
        reverse("delivery:import", kwargs=kw),
        reverse("delivery:import_detail", kwargs=kw | {"import_id": world["job"].id}),
    ]


@pytest.mark.parametrize("case", CASES)
def test_payloads_in_delivery_fields_and_csv_imports_are_inert_in_pages_and_emails(case, admin, editor, workspace,
                                                                                   django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        world = _delivery(case, workspace, admin, editor)
    client = browser(admin)
    for url in _pages(workspace, world):
        get_inert(client, url)
    preview = get_inert(client, _pages(workspace, world)[-1])
    assert "pmhx" in preview and world["job"].preview["errors"]  # the cells and the bad rows are shown
    # The change requests (and the assignment) were e-mailed.
    assert sum("Change request" in m.subject for m in mail.outbox) == 2
    for message in mail.outbox:
        assert "\n" not in message.subject and "\r" not in message.subject
        assert_inert(message.alternatives[0][0], f"e-mail {message.subject!r}")
    # Confirmed, the valid rows become stories and epics; every backlog page shows them inertly.
    with django_capture_on_commit_callbacks(execute=True):
        services.import_confirm(actor=admin, job=world["job"])
    assert Story.objects.filter(product=world["product"], title=world["p"]["csv.title"].strip()).exists()
    kw = {"ws": workspace.slug, "product_id": world["product"].id}
    for url in (reverse("backlog:list", kwargs=kw), reverse("backlog:epics", kwargs=kw),
                reverse("delivery:import_detail", kwargs=kw | {"import_id": world["job"].id}),
                reverse("delivery:iteration", kwargs=kw | {"iteration_id": world["iteration"].id})):
        get_inert(client, url)


@pytest.mark.parametrize("case", CASES)
def test_backlog_csv_export_neutralises_formulas_and_round_trips(case, admin, editor, workspace,
                                                                 django_capture_on_commit_callbacks):
    p = {name: payload(case, k) for k, name in enumerate(FIELDS)}
    product = Product.objects.create(workspace=workspace, name="Acme Analytics")
    epic = backlog_services.epic_create(actor=admin, product=product, title=p["epic.title"])
    # Stored as typed (the services strip whitespace; a tab or CR first is the sneaky case).
    story = backlog_services.story_create(actor=admin, product=product, title="t", epic_id=epic.id,
                                          labels=[p["story.label"][:40]])
    Story.objects.filter(pk=story.pk).update(title=p["planned.title"], description=p["story.description"])
    response = browser(admin).get(reverse("delivery:export", kwargs={"ws": workspace.slug,
                                                                       "product_id": product.id}))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    body = response.content.decode()
    assert_csv_neutralised(body, "backlog export")
    cells = csv_cells(body)
    for text in (p["planned.title"], p["story.description"], epic.title):
        assert safe_cell(text) in cells, f"{text!r} not written as {safe_cell(text)!r}"
    # Exported, then imported again: the same text comes back (the guard quote is dropped).
    job = staged_import(actor=admin, product=product, filename="again.csv", data=body.encode())
    services.import_preview(actor=admin, job=job)
    assert p["planned.title"].strip() in [s["title"] for s in job.preview["sample"]]


@pytest.mark.parametrize("case", CASES[::9])
def test_payloads_in_delivery_fields_come_back_as_json_data(case, api_as, admin, editor, workspace):
    world = _delivery(case, workspace, admin, editor)
    api = api_as(admin)
    assert_json_data(api.get(f"/api/v1/iterations/{world['iteration'].id}/"), world["iteration"].name,
                     world["iteration"].goal)
    assert_json_data(api.get("/api/v1/change-requests/", {"release": world["release"].id}),
                     world["release"].change_requests.get(story__title=world["p"]["added.title"].strip()).reason)
    assert_json_data(api.get(f"/api/v1/imports/{world['job'].id}/"), world["job"].filename,
                     world["p"]["csv.header"])
    browsable_inert(browser(admin), f"/api/v1/imports/{world['job'].id}/")
