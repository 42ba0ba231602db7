"""Work links: an initiative takes and lets go of epics and stories (page and API); an epic
shows and changes its initiative and release (page and API). Every refusal has its accepted twin."""

import pytest
from django.urls import reverse

from backlog.models import Epic, Story
from pmhub.models import Activity
from roadmaps.models import Initiative, Product, Release

pytestmark = pytest.mark.django_db


@pytest.fixture
def work(product, editor):
    initiative = Initiative.objects.create(product=product, title="Dashboard builder")
    release = Release.objects.create(product=product, name="2.0")
    epic = Epic.objects.create(product=product, title="Charts")
    kept = Epic.objects.create(product=product, title="Kept", initiative=initiative)
    story = Story.objects.create(product=product, title="Line chart", status="done", points=3, rank="a")
    other = Story.objects.create(product=product, title="Bar chart", status="idea", points=1, rank="b", epic=kept)
    sibling = Product.objects.create(workspace=product.workspace, name="Sibling")
    return {"initiative": initiative, "release": release, "epic": epic, "kept": kept, "story": story,
            "other": other, "sibling_epic": Epic.objects.create(product=sibling, title="Not ours"),
            "sibling_initiative": Initiative.objects.create(product=sibling, title="Not ours")}


def _links():
    return sorted(Epic.objects.values_list("id", "initiative_id", "release_id", "version")) + sorted(
        Story.objects.values_list("id", "epic_id", "version"))


# --- API: initiative takes and lets go -----------------------------------------------------------
def test_api_initiative_takes_an_epic_and_a_story_and_shows_its_progress(api, editor, work):
    api.force_authenticate(editor)
    i = work["initiative"]
    response = api.post(f"/api/v1/initiatives/{i.id}/take/", {"epics": [work["epic"].id]}, format="json")
    assert response.status_code == 200
    response = api.post(f"/api/v1/initiatives/{i.id}/take/",
                        {"stories": [work["story"].id], "epic": work["epic"].id}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert {e["title"] for e in body["epics"]} == {"Charts", "Kept"}
    assert {s["title"] for s in body["stories"]} == {"Line chart", "Bar chart"}
    assert body["work"] == {"done_points": 3, "total_points": 4, "done_count": 1, "total_count": 2,
                            "ratio": 0.75, "percent": 75}
    work["epic"].refresh_from_db()
    work["story"].refresh_from_db()
    assert work["epic"].initiative_id == i.id and work["epic"].version == 2
    assert work["story"].epic_id == work["epic"].id and work["story"].version == 2
    assert Activity.objects.filter(verb="updated epic").exists()
    detail = api.get(f"/api/v1/initiatives/{i.id}/").json()
    assert detail["progress"] == 0.75 and detail["work"]["percent"] == 75


def test_api_initiative_lets_go_of_an_epic_and_a_story(api, editor, work):
    api.force_authenticate(editor)
    i = work["initiative"]
    response = api.post(f"/api/v1/initiatives/{i.id}/release-work/", {"stories": [work["other"].id]}, format="json")
    assert response.status_code == 200 and response.json()["stories"] == []
    response = api.post(f"/api/v1/initiatives/{i.id}/release-work/", {"epics": [work["kept"].id]}, format="json")
    assert response.status_code == 200 and response.json()["epics"] == []
    work["kept"].refresh_from_db()
    work["other"].refresh_from_db()
    assert work["kept"].initiative_id is None and work["other"].epic_id is None


def test_api_initiative_work_refuses_foreign_product_ids_with_400_and_changes_nothing(api, editor, work):
    api.force_authenticate(editor)
    i = work["initiative"]
    before = _links()
    response = api.post(f"/api/v1/initiatives/{i.id}/take/", {"epics": [work["epic"].id, work["sibling_epic"].id]},
                        format="json")
    assert response.status_code == 400 and "epics" in response.json()["errors"]
    response = api.post(f"/api/v1/initiatives/{i.id}/take/", {"stories": [work["story"].id], "epic": work["epic"].id},
                        format="json")  # "Charts" is not (yet) an epic of this initiative
    assert response.status_code == 400 and "epic" in response.json()["errors"]
    response = api.post(f"/api/v1/initiatives/{i.id}/release-work/", {"stories": [work["story"].id]}, format="json")
    assert response.status_code == 400 and "stories" in response.json()["errors"]
    assert api.post(f"/api/v1/initiatives/{i.id}/take/", {}, format="json").status_code == 400
    assert _links() == before


def test_api_initiative_work_refuses_viewer_403_and_outsider_404(api, viewer, outsider, work):
    i = work["initiative"]
    before = _links()
    api.force_authenticate(viewer)
    assert api.get(f"/api/v1/initiatives/{i.id}/work/").status_code == 200
    assert api.post(f"/api/v1/initiatives/{i.id}/take/", {"epics": [work["epic"].id]},
                    format="json").status_code == 403
    api.force_authenticate(outsider)
    assert api.get(f"/api/v1/initiatives/{i.id}/work/").status_code == 404
    assert api.post(f"/api/v1/initiatives/{i.id}/take/", {"epics": [work["epic"].id]},
                    format="json").status_code == 404
    assert _links() == before


# --- API: epic's initiative and release --------------------------------------------------------------
def test_api_epic_changes_its_initiative_and_release(api, editor, work):
    api.force_authenticate(editor)
    epic = work["epic"]
    response = api.patch(f"/api/v1/epics/{epic.id}/", {"initiative_id": work["initiative"].id,
                                                        "release_id": work["release"].id, "version": 1},
                         format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["initiative"], body["release"], body["version"]) == (work["initiative"].id, work["release"].id, 2)
    assert body["work"]["total_count"] == 0
    response = api.patch(f"/api/v1/epics/{epic.id}/", {"initiative_id": None, "version": 2}, format="json")
    assert response.status_code == 200 and response.json()["initiative"] is None


def test_api_epic_refuses_foreign_initiative_400_viewer_403_outsider_404(api, editor, viewer, outsider, work):
    epic = work["epic"]
    before = _links()
    api.force_authenticate(editor)
    response = api.patch(f"/api/v1/epics/{epic.id}/", {"initiative_id": work["sibling_initiative"].id,
                                                        "version": 1}, format="json")
    assert response.status_code == 400 and "initiative_id" in response.json()["errors"]
    api.force_authenticate(viewer)
    assert api.patch(f"/api/v1/epics/{epic.id}/", {"initiative_id": work["initiative"].id},
                     format="json").status_code == 403
    api.force_authenticate(outsider)
    assert api.patch(f"/api/v1/epics/{epic.id}/", {"initiative_id": work["initiative"].id},
                     format="json").status_code == 404
    assert _links() == before


def test_api_release_scope_takes_epics_through_the_backlog_service(api, editor, work):
    api.force_authenticate(editor)
    response = api.post(f"/api/v1/releases/{work['release'].id}/scope/", {"epics": [work["kept"].id]}, format="json")
    assert response.status_code == 200
    assert response.json()["work"]["total_points"] == 1
    work["kept"].refresh_from_db()
    assert work["kept"].release_id == work["release"].id and work["kept"].version == 2
    response = api.post(f"/api/v1/releases/{work['release'].id}/scope/", {"epics": [work["sibling_epic"].id]},
                        format="json")
    assert response.status_code == 400


# --- pages -----------------------------------------------------------------------------------------
def _work_url(product, initiative):
    return reverse("roadmaps:initiative_work", kwargs={"ws": product.workspace.slug, "product_id": product.id,
                                                       "initiative_id": initiative.id})


def test_page_initiative_takes_and_lets_go(client_as, editor, product, work):
    client = client_as(editor)
    url = _work_url(product, work["initiative"])
    assert client.post(url, {"action": "take", "epics": [work["epic"].id]}).status_code == 302
    assert client.post(url, {"action": "take", "stories": [work["story"].id],
                             "epic": work["epic"].id}).status_code == 302
    page = client.get(url).content.decode()
    assert "Line chart" in page and "Charts" in page and 'data-percent="75"' in page
    assert client.post(url, {"action": "release", "epics": [work["kept"].id]}).status_code == 302
    work["kept"].refresh_from_db()
    assert work["kept"].initiative_id is None


def test_page_initiative_refuses_foreign_ids_viewer_and_outsider(client_as, editor, viewer, outsider, product, work):
    url = _work_url(product, work["initiative"])
    before = _links()
    response = client_as(editor).post(url, {"action": "take", "epics": [work["sibling_epic"].id]})
    assert response.status_code == 400 and "Nothing was changed" in response.content.decode()
    assert client_as(viewer).get(url).status_code == 200
    assert client_as(viewer).post(url, {"action": "take", "epics": [work["epic"].id]}).status_code == 403
    assert client_as(outsider).get(url).status_code == 404
    assert _links() == before


def test_page_epic_shows_and_changes_its_initiative_and_release(client_as, editor, product, work):
    client = client_as(editor)
    epic = work["epic"]
    url = reverse("backlog:epic", kwargs={"ws": product.workspace.slug, "product_id": product.id, "epic_id": epic.id})
    response = client.post(url, {"title": "Charts", "status": "idea", "version": 1,
                                 "initiative_id": work["initiative"].id, "release_id": work["release"].id})
    assert response.status_code == 302
    epic.refresh_from_db()
    assert (epic.initiative_id, epic.release_id) == (work["initiative"].id, work["release"].id)
    page = client.get(url).content.decode()
    assert "Dashboard builder" in page and "2.0" in page
    epics_page = client.get(reverse("backlog:epics", kwargs={"ws": product.workspace.slug,
                                                             "product_id": product.id})).content.decode()
    assert "Dashboard builder" in epics_page
    response = client.post(url, {"title": "Charts", "status": "idea", "version": 2,
                                 "initiative_id": work["sibling_initiative"].id})
    assert response.status_code == 400
    epic.refresh_from_db()
    assert epic.initiative_id == work["initiative"].id

