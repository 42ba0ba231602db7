"""Roadmap writes that link objects (release scope, dependencies, objectives, key result -> KPI,
capability ratings) take objects of the same product only: an id of another product or of another
workspace is refused (400 naming it, 404 on pages), the whole request changes nothing, and no row of
either workspace changes. The actor (`bridge`) is an admin of both workspaces."""

import pytest
from django.urls import reverse

from roadmaps.models import Capability, Competitor, Initiative, KeyResult, Objective
from tests.roadmaps.factories import ProductFactory, ReleaseFactory

from .massassign import ids_of, names_all, nothing_changes

pytestmark = pytest.mark.django_db


@pytest.fixture
def ours(workspace):
    product = ProductFactory(workspace=workspace)
    release = ReleaseFactory(product=product)
    return {"product": product, "release": release, "initiatives": [
        Initiative.objects.create(product=product, title=f"Ours {i}", release=release) for i in range(2)]}


@pytest.fixture
def api(bridge_api):
    return bridge_api


def test_release_scope_with_initiatives_or_epics_of_another_product_assigns_nothing(api, ours, strangers,
                                                                                      workspace, other_workspace):
    release = ours["release"]
    mine = [i.id for i in ours["initiatives"]]
    theirs, their_epics = ids_of(strangers, "roadmaps.Initiative"), ids_of(strangers, "backlog.Epic")
    for unassign in (False, True):
        with nothing_changes(workspace, other_workspace):
            response = api.post(f"/api/v1/releases/{release.id}/scope/",
                                {"initiatives": mine + theirs, "epics": their_epics, "unassign": unassign},
                                format="json")
        assert response.status_code == 400
        assert names_all(response, "initiatives", theirs) and names_all(response, "epics", their_epics)
        assert not any(str(i) in " ".join(response.json()["errors"]["initiatives"]) for i in mine)


def test_release_page_with_initiatives_of_another_product_assigns_nothing(client_as, bridge, ours, strangers,
                                                                          workspace, other_workspace):
    url = reverse("roadmaps:release", kwargs={"ws": workspace.slug, "product_id": ours["product"].id,
                                              "release_id": ours["release"].id})
    ids = [i.id for i in ours["initiatives"]] + ids_of(strangers, "roadmaps.Initiative")
    with nothing_changes(workspace, other_workspace):
        response = client_as(bridge).post(url, {"action": "assign", "initiatives": ids})
    assert response.status_code == 400


def test_dependency_between_products_or_workspaces_is_refused(api, client_as, bridge, ours, strangers, workspace,
                                                              other_workspace):
    mine = ours["initiatives"][0].id
    page = client_as(bridge)
    url = reverse("roadmaps:dependency_new", kwargs={"ws": workspace.slug, "product_id": ours["product"].id})
    for theirs in ids_of(strangers, "roadmaps.Initiative"):
        for blocker, blocked in ((mine, theirs), (theirs, mine)):
            with nothing_changes(workspace, other_workspace):
                response = api.post("/api/v1/dependencies/", {"blocker": blocker, "blocked": blocked}, format="json")
                assert page.post(url, {"blocker": blocker, "blocked": blocked}).status_code == 404
            assert response.status_code == 400 and "blocked" in response.json()["errors"]


def test_initiative_cannot_take_objectives_or_a_release_of_another_product(api, ours, strangers, workspace,
                                                                           other_workspace):
    initiative = ours["initiatives"][0]
    mine = Objective.objects.create(product=ours["product"], title="Ours", start_date="2026-10-01",
                                    end_date="2026-12-31")
    theirs = ids_of(strangers, "roadmaps.Objective")
    with nothing_changes(workspace, other_workspace):
        created = api.post("/api/v1/initiatives/", {"product": ours["product"].id, "title": "New",
                                                    "objectives": [mine.id, *theirs]}, format="json")
        updated = api.patch(f"/api/v1/initiatives/{initiative.id}/", {
            "version": initiative.version, "objectives": [mine.id, *theirs]}, format="json")
        released = [api.patch(f"/api/v1/initiatives/{initiative.id}/", {"version": initiative.version,
                                                                         "release": release}, format="json")
                    for release in ids_of(strangers, "roadmaps.Release")]
    for response in (created, updated):
        assert response.status_code == 400 and names_all(response, "objectives", theirs)
    assert all(r.status_code == 400 and "release" in r.json()["errors"] for r in released)


def test_initiative_page_cannot_take_objectives_of_another_product(client_as, bridge, ours, strangers, workspace,
                                                                   other_workspace):
    initiative = ours["initiatives"][0]
    url = reverse("roadmaps:initiative", kwargs={"ws": workspace.slug, "product_id": ours["product"].id,
                                                 "initiative_id": initiative.id})
    with nothing_changes(workspace, other_workspace):
        response = client_as(bridge).post(url, {
            "title": "Renamed", "status": "planned", "confidence": "50", "version": initiative.version,
            "objectives": ids_of(strangers, "roadmaps.Objective"), "release": ids_of(strangers, "roadmaps.Release")[0]})
    assert response.status_code == 400


def test_key_result_cannot_follow_a_kpi_of_another_product(api, ours, strangers, workspace, other_workspace):
    objective = Objective.objects.create(product=ours["product"], title="Grow", start_date="2026-10-01",
                                         end_date="2026-12-31")
    kr = KeyResult.objects.create(objective=objective, title="WAU", target_value=10)
    for kpi in ids_of(strangers, "metrics.Kpi"):
        with nothing_changes(workspace, other_workspace):
            created = api.post("/api/v1/key-results/", {"objective": objective.id, "title": "NPS",
                                                        "target_value": "5", "kpi": kpi}, format="json")
            updated = api.patch(f"/api/v1/key-results/{kr.id}/", {"kpi": kpi, "version": kr.version},
                                format="json")
        assert created.status_code == updated.status_code == 400
        assert "kpi" in created.json()["errors"] and "kpi" in updated.json()["errors"]


def test_competitor_cannot_rate_a_capability_of_another_product(api, client_as, bridge, ours, strangers, workspace,
                                                                other_workspace):
    competitor = Competitor.objects.create(product=ours["product"], name="Lookr")
    Capability.objects.create(product=ours["product"], name="Exports")
    page = client_as(bridge)
    url = reverse("roadmaps:product", kwargs={"ws": workspace.slug, "product_id": ours["product"].id})
    for capability in ids_of(strangers, "roadmaps.Capability"):
        with nothing_changes(workspace, other_workspace):
            response = api.post(f"/api/v1/competitors/{competitor.id}/rate/", {"capability": capability,
                                                                               "level": "yes"}, format="json")
            assert page.post(url, {"kind": "rating", "competitor": competitor.id, "capability": capability,
                                   "level": "yes"}).status_code == 404
        assert response.status_code == 400 and "capability" in response.json()["errors"]
