"""Every payload of xss_corpus.py in every name and Markdown field of the roadmaps app (product,
business case, segments, competitors, capabilities, objectives, key results, initiatives,
labels, releases, snapshots, share links) comes out inert in its pages, on the public share page
and as data in the API."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from backlog import services as backlog_services
from pmhub.models import User
from roadmaps import services
from roadmaps.models import Capability, Competitor, Release, Segment

from .xss_cases import CASES, assert_json_data, browsable_inert, browser, get_inert, payload

pytestmark = pytest.mark.django_db

FIELDS = [
    "product.name", "product.vision", "case.problem", "case.expected_value", "case.cost", "case.risks",
    "segment.name", "segment.needs", "segment.size", "competitor.name", "competitor.strengths",
    "competitor.weaknesses", "capability.name", "objective.title", "objective.description", "key_result.title",
    "key_result.unit", "initiative.title", "initiative.description", "initiative.labels", "unscheduled.title",
    "release.name", "release.description", "snapshot.name", "share_link.label", "owner.name", "epic.title",
]


def _roadmap(case, workspace, admin):
    """A product with one of everything, each name or Markdown field holding the case's payload."""
    p = {name: payload(case, k) for k, name in enumerate(FIELDS)}
    User.objects.filter(pk=admin.pk).update(name=p["owner.name"][:150])
    admin.refresh_from_db()
    product = services.product_create(actor=admin, workspace=workspace, name=p["product.name"][:120],
                                      vision=p["product.vision"])
    services.business_case_update(actor=admin, product=product, data={
        "problem": p["case.problem"], "expected_value": p["case.expected_value"], "cost": p["case.cost"],
        "risks": p["case.risks"]})
    # Taken before the initiatives exist, so the comparison with today lists them as added.
    before = services.snapshot_create(actor=admin, product=product, name=p["snapshot.name"])
    services.child_create(actor=admin, model=Segment, product=product, data={
        "name": p["segment.name"], "needs": p["segment.needs"], "size": p["segment.size"]})
    competitor = services.child_create(actor=admin, model=Competitor, product=product, data={
        "name": p["competitor.name"], "strengths": p["competitor.strengths"],
        "weaknesses": p["competitor.weaknesses"]})
    capability = services.child_create(actor=admin, model=Capability, product=product,
                                       data={"name": p["capability.name"], "ours": "yes"})
    services.capability_rate(actor=admin, competitor=competitor, capability=capability, level="partial")
    objective = services.objective_create(actor=admin, product=product, data={
        "title": p["objective.title"], "description": p["objective.description"], "quarter": "2026-Q4"})
    services.key_result_create(actor=admin, objective=objective, data={
        "title": p["key_result.title"], "unit": p["key_result.unit"][:20], "start_value": Decimal(0),
        "target_value": Decimal(10), "current_value": Decimal(4), "owner": admin})
    release = services.child_create(actor=admin, model=Release, product=product, data={
        "name": p["release.name"], "description": p["release.description"], "release_date": date(2026, 11, 20)})
    initiative = services.initiative_create(actor=admin, product=product, data={
        "title": p["initiative.title"], "description": p["initiative.description"], "status": "planned",
        "owner": admin, "start_date": date(2026, 10, 1), "end_date": date(2026, 11, 30), "horizon": "now",
        "labels": p["initiative.labels"], "objectives": [objective], "release": release})
    services.initiative_create(actor=admin, product=product, data={
        "title": p["unscheduled.title"], "status": "proposed", "horizon": "later"})
    backlog_services.epic_create(actor=admin, product=product, title=p["epic.title"], release=release)
    _, token = services.share_link_create(actor=admin, product=product, days=7, label=p["share_link.label"])
    # Links that show the board and the list, filtered by the objective and the release (their
    # names are in the page's header), one of them with its presentation.
    _, board = services.share_link_create(actor=admin, product=product, view="board", allow_present=True,
                                          filters={"objective": objective.id, "horizon": "now"})
    _, listed = services.share_link_create(actor=admin, product=product, view="list",
                                           filters={"release": release.id})
    return {"product": product, "initiative": initiative, "release": release, "snapshot": before, "token": token,
            "objective": objective, "shared": [board, listed]}


def _pages(workspace, world):
    ws, product = workspace.slug, world["product"]
    kw = {"ws": ws, "product_id": product.id}
    return [
        reverse("workspace_home", kwargs={"ws": ws}),
        reverse("activity", kwargs={"ws": ws}),
        reverse("roadmaps:products", kwargs={"ws": ws}),
        reverse("roadmaps:product", kwargs=kw),
        reverse("roadmaps:product_edit", kwargs=kw),
        reverse("roadmaps:product_delete", kwargs=kw),
        reverse("roadmaps:timeline", kwargs=kw),
        reverse("roadmaps:timeline", kwargs=kw) + "?group=owner&scale=quarter",
        reverse("roadmaps:board", kwargs=kw),
        reverse("roadmaps:list", kwargs=kw),
        reverse("roadmaps:initiative_new", kwargs=kw),
        reverse("roadmaps:initiative", kwargs=kw | {"initiative_id": world["initiative"].id}),
        reverse("roadmaps:objectives", kwargs=kw),
        reverse("roadmaps:releases", kwargs=kw),
        reverse("roadmaps:release", kwargs=kw | {"release_id": world["release"].id}),
        reverse("roadmaps:snapshots", kwargs=kw),
        reverse("roadmaps:snapshot_compare", kwargs=kw) + f"?a={world['snapshot'].id}&b=current",
        reverse("roadmaps:share_links", kwargs=kw),
        reverse("roadmaps:present", kwargs=kw),
    ]


@pytest.mark.parametrize("case", CASES)
def test_payloads_in_roadmap_fields_are_inert_in_pages_and_on_the_share_page(case, admin, workspace):
    world = _roadmap(case, workspace, admin)
    signed_in = browser(admin)
    for url in _pages(workspace, world):
        get_inert(signed_in, url)
    html = get_inert(browser(), reverse("share:timeline", kwargs={"token": world["token"]}), "share page")
    assert "pmhx" in html  # the shared timeline really shows the product's names
    board, listed = world["shared"]
    for url in (reverse("share:timeline", kwargs={"token": board}), reverse("share:timeline", kwargs={"token": listed}),
                reverse("share:present", kwargs={"token": board})):
        assert "pmhx" in get_inert(browser(), url, url)


@pytest.mark.parametrize("case", CASES[::9])
def test_payloads_in_roadmap_fields_come_back_as_json_data(case, api_as, admin, workspace):
    world = _roadmap(case, workspace, admin)
    product, initiative = world["product"], world["initiative"]
    api = api_as(admin)
    assert_json_data(api.get(f"/api/v1/products/{product.id}/"), product.name, product.vision)
    assert_json_data(api.get(f"/api/v1/initiatives/{initiative.id}/"), initiative.title, initiative.description)
    assert_json_data(api.get(f"/api/v1/products/{product.id}/timeline/"), initiative.title)
    assert_json_data(api.get("/api/v1/segments/", {"product": product.id}), product.segments.get().name)
    assert_json_data(api.get(f"/api/v1/objectives/{world['objective'].id}/"), world["objective"].title)
    assert_json_data(api.get("/api/v1/snapshots/", {"product": product.id}), world["snapshot"].name)
    browsable_inert(browser(admin), f"/api/v1/products/{product.id}/timeline/")
