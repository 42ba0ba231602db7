"""API behaviour: validation (400 with field errors), optimistic locking (409), filters, the
timeline endpoint, dependencies with conflict flags, snapshots diff and share links."""

from datetime import date

import pytest

from roadmaps.models import Dependency, Initiative, Product, ShareLink
from tests.roadmaps.conftest import fingerprint

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_editor(api, editor):
    api.force_authenticate(editor)
    return api


def test_create_initiative_and_read_it_back(as_editor, world):
    product, objective = world["products"], world["objectives"]
    response = as_editor.post("/api/v1/initiatives/", {
        "product": product.pk, "title": "Gamma", "status": "planned", "horizon": "later", "labels": ["Growth", "ai"],
        "objectives": [objective.pk], "confidence": 80, "start_date": "2026-12-01", "end_date": "2027-01-31",
    }, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["labels"] == ["ai", "growth"] and body["objectives"] == [objective.pk] and body["version"] == 1
    assert body["progress"] is None


def test_bad_input_is_400_with_field_errors_and_nothing_changes(as_editor, world):
    before = fingerprint()
    response = as_editor.post("/api/v1/initiatives/", {
        "product": world["products"].pk, "title": "", "status": "nope", "confidence": 140,
        "start_date": "2026-12-01", "end_date": "2026-11-01"}, format="json")
    assert response.status_code == 400
    assert {"title", "status", "confidence"} <= set(response.json()["errors"])
    response = as_editor.post("/api/v1/initiatives/", {
        "product": world["products"].pk, "title": "Dates", "start_date": "2026-12-01", "end_date": "2026-11-01"},
        format="json")
    assert response.status_code == 400 and "end_date" in response.json()["errors"]
    assert fingerprint() == before


def test_stale_version_gets_409_with_current_state(as_editor, world):
    initiative = world["initiatives"]
    url = f"/api/v1/initiatives/{initiative.pk}/"
    assert as_editor.patch(url, {"title": "First", "version": 1}, format="json").status_code == 200
    response = as_editor.patch(url, {"title": "Second", "version": 1}, format="json")
    assert response.status_code == 409
    assert response.json()["current"]["title"] == "First" and response.json()["current"]["version"] == 2
    assert Initiative.objects.get(pk=initiative.pk).title == "First"


def test_update_without_version_is_409_with_the_current_state(as_editor, world):
    initiative = world["initiatives"]
    response = as_editor.patch(f"/api/v1/initiatives/{initiative.pk}/", {"title": "x"}, format="json")
    assert response.status_code == 409 and response.json()["current"]["version"] == initiative.version
    assert Initiative.objects.get(pk=initiative.pk).title == initiative.title


def test_move_action_changes_horizon_with_version(as_editor, world):
    initiative = world["initiatives"]
    response = as_editor.post(f"/api/v1/initiatives/{initiative.pk}/move/", {"version": 1, "horizon": "later",
                                                                             "rank": 3.5}, format="json")
    assert response.status_code == 200 and response.json()["horizon"] == "later"
    assert as_editor.post(f"/api/v1/initiatives/{initiative.pk}/move/", {"version": 1, "horizon": "now"},
                          format="json").status_code == 409


@pytest.mark.parametrize("query,titles", [
    ("status=planned", ["Alpha"]), ("horizon=next", ["Beta"]), ("label=growth", ["Alpha"]),
    ("label=grow", []), ("objective={objective}", ["Alpha"]), ("owner={editor}", []),
])
def test_initiative_filters(as_editor, world, editor, query, titles):
    query = query.format(objective=world["objectives"].pk, editor=editor.pk)
    response = as_editor.get(f"/api/v1/initiatives/?product={world['products'].pk}&{query}")
    assert response.status_code == 200
    assert [r["title"] for r in response.json()["results"]] == titles


def test_initiatives_carry_dependency_conflicts(as_editor, world):
    response = as_editor.get(f"/api/v1/initiatives/{world['initiative_b'].pk}/")
    body = response.json()
    assert body["conflict"] is True
    assert body["blocked_by"] == [{"id": world["dependencies"].pk, "initiative": world["initiatives"].pk,
                                   "conflict": True}]


def test_dependency_cycle_is_a_400(as_editor, world):
    response = as_editor.post("/api/v1/dependencies/", {"blocker": world["initiative_b"].pk,
                                                        "blocked": world["initiatives"].pk}, format="json")
    assert response.status_code == 400
    assert "cycle" in response.json()["errors"]["blocked"][0]
    assert Dependency.objects.count() == 1


def test_dependency_list_flags_conflicts(as_editor, world):
    response = as_editor.get(f"/api/v1/dependencies/?product={world['products'].pk}")
    assert response.json()["results"][0]["conflict"] is True


def test_timeline_endpoint_returns_initiatives_dependencies_and_releases(as_editor, world):
    response = as_editor.get(f"/api/v1/products/{world['products'].pk}/timeline/")
    assert response.status_code == 200
    body = response.json()
    assert [i["title"] for i in body["initiatives"]] == ["Alpha", "Beta"]
    assert body["dependencies"][0]["conflict"] is True
    assert body["releases"][0]["name"] == "2.0"


def test_product_delete_is_soft_and_restorable(api, admin, world):
    api.force_authenticate(admin)
    product = world["products"]
    assert api.delete(f"/api/v1/products/{product.pk}/").status_code == 204
    assert api.get(f"/api/v1/products/{product.pk}/").status_code == 404
    assert Product.objects.get(pk=product.pk).deleted_at is not None
    response = api.post(f"/api/v1/products/{product.pk}/restore/")
    assert response.status_code == 200 and response.json()["deleted_at"] is None


def test_product_with_business_case(as_editor, world):
    response = as_editor.post("/api/v1/products/", {
        "workspace": world["products"].workspace_id, "name": "New", "vision": "v",
        "business_case": {"problem": "p", "risks": "r"}}, format="json")
    assert response.status_code == 201
    assert response.json()["business_case"]["problem"] == "p"


def test_objective_with_quarter_and_key_result_progress(as_editor, world):
    response = as_editor.post("/api/v1/objectives/", {"product": world["products"].pk, "title": "O",
                                                      "quarter": "2027-Q2"}, format="json")
    assert response.status_code == 201 and response.json()["start_date"] == "2027-04-01"
    kr = as_editor.get(f"/api/v1/key-results/{world['key-results'].pk}/").json()
    assert kr["progress"] == 0.5
    bad = as_editor.post("/api/v1/objectives/", {"product": world["products"].pk, "title": "O"}, format="json")
    assert bad.status_code == 400 and "quarter" in bad.json()["errors"]


def test_competitor_rating(as_editor, world):
    comp, cap = world["competitors"], world["capabilities"]
    response = as_editor.post(f"/api/v1/competitors/{comp.pk}/rate/", {"capability": cap.pk, "level": "partial"},
                              format="json")
    assert response.status_code == 200
    assert response.json()["capabilities"] == {str(cap.pk): "partial"}
    assert as_editor.post(f"/api/v1/competitors/{comp.pk}/rate/", {"capability": cap.pk, "level": "maybe"},
                          format="json").status_code == 400


def test_release_ship_and_scope(as_editor, world):
    release = world["releases"]
    response = as_editor.post(f"/api/v1/releases/{release.pk}/scope/", {"initiatives": [world["initiatives"].pk]},
                              format="json")
    assert response.status_code == 200
    assert Initiative.objects.get(pk=world["initiatives"].pk).release_id == release.pk
    release.refresh_from_db()
    response = as_editor.patch(f"/api/v1/releases/{release.pk}/", {"status": "released", "version": release.version},
                               format="json")
    assert response.json()["status"] == "released" and response.json()["released_at"]


def test_snapshot_and_diff(as_editor, world):
    product = world["products"]
    first = as_editor.post("/api/v1/snapshots/", {"product": product.pk, "name": "Before"}, format="json").json()
    Initiative.objects.filter(pk=world["initiatives"].pk).update(start_date=date(2026, 10, 5), status="done")
    Initiative.objects.create(product=product, title="Gamma")
    second = as_editor.post("/api/v1/snapshots/", {"product": product.pk, "name": "After"}, format="json").json()
    diff = as_editor.get(f"/api/v1/snapshots/{first['id']}/diff/?other={second['id']}").json()
    assert [x["title"] for x in diff["added"]] == ["Gamma"]
    assert diff["moved"][0]["title"] == "Alpha" and diff["status_changed"][0]["to"] == "done"


def test_share_link_token_is_shown_once_and_stored_hashed(as_editor, world, client):
    response = as_editor.post("/api/v1/share-links/", {"product": world["products"].pk, "days": 7}, format="json")
    assert response.status_code == 201
    token = response.json()["token"]
    link = ShareLink.objects.get(pk=response.json()["id"])
    assert token not in link.token_hash and "token" not in as_editor.get(f"/api/v1/share-links/{link.pk}/").json()
    assert client.get(f"/share/{token}/").status_code == 200
    assert as_editor.delete(f"/api/v1/share-links/{link.pk}/").status_code == 204
    assert client.get(f"/share/{token}/").status_code == 404
