"""Permission matrix for every roadmaps API route and page: an outsider gets 404 on every method,
a viewer 403 on every write, and a refused write changes no row."""

import pytest
from django.urls import reverse

from tests.roadmaps.conftest import fingerprint

pytestmark = pytest.mark.django_db

ROUTES = ["products", "segments", "competitors", "capabilities", "objectives", "key-results", "initiatives",
          "dependencies", "releases", "snapshots", "share-links"]
NO_UPDATE = {"dependencies", "snapshots", "share-links"}
PAYLOAD = {"name": "pwned", "title": "pwned", "version": 1, "target_value": "1", "level": "yes"}


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_api_outsider_gets_404_and_nothing_changes(api, outsider, world, route, method):
    api.force_authenticate(outsider)
    before = fingerprint()
    response = getattr(api, method)(f"/api/v1/{route}/{world[route].pk}/", PAYLOAD, format="json")
    # Routes without updates answer 405 to PUT/PATCH for everyone, which reveals nothing.
    expected = 405 if method in ("put", "patch") and route in NO_UPDATE else 404
    assert response.status_code == expected
    assert fingerprint() == before


@pytest.mark.parametrize("route", ROUTES)
def test_api_outsider_does_not_see_foreign_rows_in_lists(api, outsider, world, route):
    api.force_authenticate(outsider)
    response = api.get(f"/api/v1/{route}/")
    assert response.status_code == 200
    assert response.json()["results"] == []


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_api_viewer_gets_403_on_writes_and_nothing_changes(api, viewer, world, route, method):
    api.force_authenticate(viewer)
    before = fingerprint()
    response = getattr(api, method)(f"/api/v1/{route}/{world[route].pk}/", PAYLOAD, format="json")
    expected = 405 if method in ("put", "patch") and route in NO_UPDATE else 403
    assert response.status_code == expected
    assert fingerprint() == before


CREATE = {
    "products": lambda w: {"workspace": w["products"].workspace_id, "name": "X"},
    "segments": lambda w: {"product": w["products"].pk, "name": "X"},
    "competitors": lambda w: {"product": w["products"].pk, "name": "X"},
    "capabilities": lambda w: {"product": w["products"].pk, "name": "X"},
    "objectives": lambda w: {"product": w["products"].pk, "title": "X", "quarter": "2027-Q1"},
    "key-results": lambda w: {"objective": w["objectives"].pk, "title": "X", "target_value": "10"},
    "initiatives": lambda w: {"product": w["products"].pk, "title": "X"},
    "dependencies": lambda w: {"blocker": w["initiative_b"].pk, "blocked": w["initiatives"].pk},
    "releases": lambda w: {"product": w["products"].pk, "name": "X"},
    "snapshots": lambda w: {"product": w["products"].pk, "name": "X"},
    "share-links": lambda w: {"product": w["products"].pk, "days": 5},
}
ACTIONS = [("products", "restore"), ("competitors", "rate"), ("releases", "ship"), ("releases", "scope"),
           ("initiatives", "move"), ("initiatives", "take"), ("initiatives", "release-work")]


@pytest.mark.parametrize("route", ROUTES)
def test_api_viewer_cannot_create(api, viewer, world, route):
    api.force_authenticate(viewer)
    before = fingerprint()
    response = api.post(f"/api/v1/{route}/", CREATE[route](world), format="json")
    assert response.status_code == 403
    assert fingerprint() == before


@pytest.mark.parametrize("route", ROUTES)
def test_api_outsider_cannot_create_in_foreign_product(api, outsider, foreign_product, world, route):
    """Foreign ids in the body are unknown to the outsider: 400 (or 404 for the workspace), no row."""
    api.force_authenticate(outsider)
    before = fingerprint()
    response = api.post(f"/api/v1/{route}/", CREATE[route](world), format="json")
    assert response.status_code in (400, 404)
    assert fingerprint() == before


@pytest.mark.parametrize("route,name", ACTIONS)
def test_api_actions_refuse_outsider_and_viewer(api, outsider, viewer, world, route, name):
    body = {"version": 1, "horizon": "later", "capability": world["capabilities"].pk, "level": "no",
            "initiatives": [world["initiatives"].pk]}
    before = fingerprint()
    api.force_authenticate(outsider)
    assert api.post(f"/api/v1/{route}/{world[route].pk}/{name}/", body, format="json").status_code == 404
    api.force_authenticate(viewer)
    assert api.post(f"/api/v1/{route}/{world[route].pk}/{name}/", body, format="json").status_code in (403, 404)
    assert fingerprint() == before


def test_api_timeline_and_diff_refuse_outsider(api, outsider, world):
    api.force_authenticate(outsider)
    assert api.get(f"/api/v1/products/{world['products'].pk}/timeline/").status_code == 404
    snap = world["snapshots"]
    assert api.get(f"/api/v1/snapshots/{snap.pk}/diff/?other={snap.pk}").status_code == 404


# --- pages -------------------------------------------------------------------------------------------
def _pages(w):
    ws, pid = w["products"].workspace.slug, w["products"].pk
    p = {"ws": ws, "product_id": pid}
    return {
        "products": (reverse("roadmaps:products", kwargs={"ws": ws}), {"name": "X"}),
        "product": (reverse("roadmaps:product", kwargs=p), {"kind": "segment", "name": "X"}),
        "product_edit": (reverse("roadmaps:product_edit", kwargs=p), {"name": "X"}),
        "product_delete": (reverse("roadmaps:product_delete", kwargs=p), {}),
        "child_delete": (reverse("roadmaps:child_delete", kwargs=p | {"kind": "segments",
                                                                      "obj_id": w["segments"].pk}), {}),
        "timeline": (reverse("roadmaps:timeline", kwargs=p), None),
        "board": (reverse("roadmaps:board", kwargs=p), None),
        "list": (reverse("roadmaps:list", kwargs=p), None),
        "present": (reverse("roadmaps:present", kwargs=p), None),
        "initiative_new": (reverse("roadmaps:initiative_new", kwargs=p), {"title": "X", "status": "planned",
                                                                         "confidence": 5}),
        "initiative": (reverse("roadmaps:initiative", kwargs=p | {"initiative_id": w["initiatives"].pk}),
                       {"title": "X", "status": "planned", "confidence": 5, "version": 1}),
        "initiative_work": (reverse("roadmaps:initiative_work", kwargs=p | {"initiative_id": w["initiatives"].pk}),
                            {"action": "take", "epics": ["1"]}),
        "initiative_delete": (reverse("roadmaps:initiative_delete",
                                      kwargs=p | {"initiative_id": w["initiatives"].pk}), {}),
        "initiative_move": (reverse("roadmaps:initiative_move", kwargs=p | {"initiative_id": w["initiatives"].pk}),
                            {"version": 1, "horizon": "later"}),
        "dependency_new": (reverse("roadmaps:dependency_new", kwargs=p),
                           {"blocker": w["initiative_b"].pk, "blocked": w["initiatives"].pk}),
        "dependency_delete": (reverse("roadmaps:dependency_delete",
                                      kwargs=p | {"dependency_id": w["dependencies"].pk}), {}),
        "objectives": (reverse("roadmaps:objectives", kwargs=p), {"title": "X", "quarter": "2027-Q1"}),
        "objective_delete": (reverse("roadmaps:objective_delete", kwargs=p | {"objective_id": w["objectives"].pk}),
                             {}),
        "key_result_new": (reverse("roadmaps:key_result_new", kwargs=p | {"objective_id": w["objectives"].pk}),
                           {"title": "X", "start_value": 0, "target_value": 1, "current_value": 0}),
        "key_result": (reverse("roadmaps:key_result", kwargs=p | {"key_result_id": w["key-results"].pk}),
                       {"current_value": 99}),
        "releases": (reverse("roadmaps:releases", kwargs=p), {"name": "X", "kind": "release"}),
        "release": (reverse("roadmaps:release", kwargs=p | {"release_id": w["releases"].pk}), {"action": "ship"}),
        "snapshots": (reverse("roadmaps:snapshots", kwargs=p), {"name": "X"}),
        "snapshot_compare": (reverse("roadmaps:snapshot_compare", kwargs=p), None),
        "snapshot_delete": (reverse("roadmaps:snapshot_delete", kwargs=p | {"snapshot_id": w["snapshots"].pk}), {}),
        "share_links": (reverse("roadmaps:share_links", kwargs=p), {"days": 3}),
        "share_link_revoke": (reverse("roadmaps:share_link_revoke",
                                      kwargs=p | {"link_id": w["share-links"].pk}), {}),
    }


PAGES = ["products", "product", "product_edit", "product_delete", "child_delete", "timeline", "board", "list",
         "present", "initiative_new", "initiative", "initiative_work", "initiative_delete", "initiative_move", "dependency_new",
         "dependency_delete", "objectives", "objective_delete", "key_result_new", "key_result", "releases",
         "release", "snapshots", "snapshot_compare", "snapshot_delete", "share_links", "share_link_revoke"]
READABLE_BY_VIEWER = {"products", "product", "timeline", "board", "list", "present", "initiative_work", "objectives", "releases",
                      "release",
                      "snapshots", "snapshot_compare"}


def test_every_roadmaps_url_is_in_the_matrix():
    from roadmaps.urls import product_patterns, urlpatterns

    names = {p.name for p in product_patterns} | {getattr(p, "name", None) for p in urlpatterns} - {None}
    assert names - {"product_restore"} == set(PAGES)


@pytest.mark.parametrize("name", PAGES)
def test_pages_outsider_gets_404_on_get_and_post(client_as, outsider, world, name):
    url, data = _pages(world)[name]
    client = client_as(outsider)
    before = fingerprint()
    assert client.get(url).status_code == 404
    assert client.post(url, data or {}).status_code == 404
    assert fingerprint() == before


@pytest.mark.parametrize("name", PAGES)
def test_pages_viewer_reads_and_is_refused_writes(client_as, viewer, world, name):
    url, data = _pages(world)[name]
    client = client_as(viewer)
    before = fingerprint()
    status = client.get(url).status_code
    assert status == (200 if name in READABLE_BY_VIEWER else 403 if data is not None and name not in (
        "child_delete", "initiative_delete", "initiative_move", "dependency_new", "dependency_delete",
        "objective_delete", "key_result_new", "key_result", "snapshot_delete", "share_link_revoke") else 405)
    if data is not None:
        assert client.post(url, data).status_code == 403
    assert fingerprint() == before


def test_restore_page_is_admin_only_and_foreign_is_404(client_as, admin, editor, outsider, world):
    product = world["products"]
    product.deleted_at = product.created_at
    product.save()
    url = reverse("roadmaps:product_restore", kwargs={"ws": product.workspace.slug, "product_id": product.pk})
    assert client_as(outsider).post(url).status_code == 404
    assert client_as(editor).post(url).status_code == 403
    assert client_as(admin).get(url).status_code == 200
    assert client_as(admin).post(url).status_code == 302
    product.refresh_from_db()
    assert product.deleted_at is None
