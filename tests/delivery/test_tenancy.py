"""Every delivery page and endpoint: an outsider gets 404 (GET, PUT, PATCH, DELETE, POST), a
viewer 403 on writes, and the rows stay as they were. Plus query counts on the lists."""

import pytest

from delivery import services
from delivery.models import ChangeRequest, ImportJob, Iteration, IterationItem, ReleaseScopeItem, ScopeApproval

from .factories import IterationFactory, StoryFactory, staged_import

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(product, release, admin, editor):
    iteration = IterationFactory(product=product, capacity_points=5)
    planned, free = StoryFactory(product=product), StoryFactory(product=product)
    services.iteration_add_story(actor=editor, iteration=iteration, story_id=planned.id)
    services.scope_change(actor=editor, release=release, story_id=planned.id, kind="add")
    services.scope_approve(actor=admin, release=release)
    cr = services.scope_change(actor=editor, release=release, story_id=free.id, kind="add", reason="r")
    job = staged_import(actor=editor, product=product, filename="a.csv", data=b"Summary\nOne\n")
    return {"iteration": iteration, "planned": planned, "free": free, "cr": cr, "job": job, "release": release}


def _state():
    return (
        list(Iteration.objects.values_list("id", "name", "capacity_points", "start_date", "end_date")),
        list(IterationItem.objects.values_list("id", "iteration_id", "story_id", "removed_at")),
        list(ReleaseScopeItem.objects.values_list("release_id", "story_id")),
        ScopeApproval.objects.count(),
        list(ChangeRequest.objects.values_list("id", "status")),
        list(ImportJob.objects.values_list("id", "status")),
    )


def _pages(product, w):
    base = f"/w/{product.workspace.slug}/products/{product.id}"
    it, rel, cr, job = w["iteration"].id, w["release"].id, w["cr"].id, w["job"].id
    return {
        "iterations": (f"{base}/iterations/", {"name": "X", "start_date": "2026-01-01", "end_date": "2026-01-02",
                                               "capacity_points": 1}),
        "iteration": (f"{base}/iterations/{it}/", {"name": "X", "start_date": "2026-01-01",
                                                   "end_date": "2026-01-02", "capacity_points": 1}),
        "iteration_items": (f"{base}/iterations/{it}/items/", {"story": w["free"].id, "action": "add"}),
        "release_scope": (f"{base}/releases/{rel}/scope/", {"story": w["free"].id, "kind": "add", "reason": "x"}),
        "scope_approve": (f"{base}/releases/{rel}/scope/approve/", {}),
        "change_request_decide": (f"{base}/releases/{rel}/change-requests/{cr}/", {"decision": "approve"}),
        "import": (f"{base}/import/", {}),
        "import_detail": (f"{base}/import/{job}/", {"map_title": "0"}),
        "import_confirm": (f"{base}/import/{job}/confirm/", {}),
        "import_reading": (f"{base}/import/{job}/reading/", {}),
        "export": (f"{base}/export.csv", {}),
    }


PAGE_NAMES = ["iterations", "iteration", "iteration_items", "release_scope", "scope_approve",
              "change_request_decide", "import", "import_detail", "import_confirm", "import_reading", "export"]
READABLE_BY_VIEWER = {"iterations", "iteration", "release_scope", "import", "export"}


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_outsider_gets_404_on_every_page(client_as, outsider, product, world, name):
    url, data = _pages(product, world)[name]
    client = client_as(outsider)
    before = _state()
    for method in ("get", "post", "put", "patch", "delete"):
        response = client.post(url, data) if method == "post" else getattr(client, method)(url)
        assert response.status_code == 404, method
    assert _state() == before


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_viewer_reads_what_viewers_may_and_cannot_write(client_as, viewer, product, world, name):
    url, data = _pages(product, world)[name]
    client = client_as(viewer)
    before = _state()
    get = client.get(url)
    assert get.status_code == (200 if name in READABLE_BY_VIEWER else (405 if name in {
        "iteration_items", "scope_approve", "change_request_decide", "import_confirm"} else 403))
    post = client.post(url, data)
    assert post.status_code in (403, 405)
    assert _state() == before


@pytest.mark.parametrize("name", ["scope_approve", "change_request_decide"])
def test_editor_cannot_approve_on_pages(client_as, editor, product, world, name):
    url, data = _pages(product, world)[name]
    before = _state()
    assert client_as(editor).post(url, data).status_code == 403
    assert _state() == before


def test_foreign_story_id_in_a_form_is_refused(client_as, editor, product, other_product, world):
    foreign = StoryFactory(product=other_product)
    url, _ = _pages(product, world)["iteration_items"]
    before = _state()
    client_as(editor).post(url, {"story": foreign.id, "action": "add"})
    assert _state() == before


def _endpoints(w):
    it, rel, cr, job = w["iteration"].id, w["release"].id, w["cr"].id, w["job"].id
    return [
        f"/api/v1/iterations/{it}/", f"/api/v1/iterations/{it}/items/", f"/api/v1/iterations/{it}/items/remove/",
        f"/api/v1/iterations/{it}/burndown/", f"/api/v1/iterations/{it}/stories/",
        f"/api/v1/release-scopes/{rel}/", f"/api/v1/release-scopes/{rel}/add/",
        f"/api/v1/release-scopes/{rel}/remove/", f"/api/v1/release-scopes/{rel}/approve/",
        f"/api/v1/change-requests/{cr}/", f"/api/v1/change-requests/{cr}/approve/",
        f"/api/v1/change-requests/{cr}/reject/",
        f"/api/v1/imports/{job}/", f"/api/v1/imports/{job}/preview/", f"/api/v1/imports/{job}/confirm/",
    ]


@pytest.mark.parametrize("index", range(15))
def test_api_outsider_gets_404_or_405(api, outsider, world, index):
    url = _endpoints(world)[index]
    api.force_authenticate(outsider)
    before = _state()
    for method in ("get", "post", "put", "patch", "delete"):
        response = getattr(api, method)(url, {"story": world["free"].id, "name": "x"}, format="json")
        # 405 where the route does not offer the method at all (the same answer for everyone).
        assert response.status_code in (404, 405), (method, response.status_code)
    assert api.get(url).status_code in (404, 405)
    assert _state() == before


def test_api_outsider_sees_empty_lists_and_cannot_target_foreign_product(api, outsider, product, world):
    api.force_authenticate(outsider)
    for url in ("/api/v1/iterations/", "/api/v1/release-scopes/", "/api/v1/change-requests/", "/api/v1/imports/"):
        response = api.get(url)
        assert response.status_code == 200 and response.json()["results"] == [], url
    assert api.get(f"/api/v1/iterations/velocity/?product={product.id}").status_code == 404
    response = api.post("/api/v1/iterations/", {"product": product.id, "name": "x", "start_date": "2026-01-01",
                                                "end_date": "2026-01-02"}, format="json")
    assert response.status_code == 404
    assert Iteration.objects.count() == 1


@pytest.mark.parametrize(("method", "path", "data"), [
    ("post", "/api/v1/iterations/", "create"),
    ("patch", "/api/v1/iterations/{it}/", {"capacity_points": 99}),
    ("put", "/api/v1/iterations/{it}/", {"name": "x", "start_date": "2026-01-01", "end_date": "2026-01-02"}),
    ("delete", "/api/v1/iterations/{it}/", {}),
    ("post", "/api/v1/iterations/{it}/items/", "story"),
    ("post", "/api/v1/iterations/{it}/items/remove/", "planned"),
    ("post", "/api/v1/release-scopes/{rel}/add/", "story"),
    ("post", "/api/v1/release-scopes/{rel}/approve/", {}),
    ("post", "/api/v1/change-requests/", "cr"),
    ("post", "/api/v1/change-requests/{cr}/approve/", {}),
    ("post", "/api/v1/change-requests/{cr}/reject/", {}),
    ("post", "/api/v1/imports/{job}/preview/", {}),
    ("post", "/api/v1/imports/{job}/confirm/", {}),
])
def test_api_viewer_gets_403_on_writes(api, viewer, product, world, method, path, data):
    url = path.format(it=world["iteration"].id, rel=world["release"].id, cr=world["cr"].id, job=world["job"].id)
    if data == "create":
        data = {"product": product.id, "name": "x", "start_date": "2026-01-01", "end_date": "2026-01-02"}
    elif data == "story":
        data = {"story": world["free"].id}
    elif data == "planned":
        data = {"story": world["planned"].id}
    elif data == "cr":
        data = {"release": world["release"].id, "story": world["free"].id, "kind": "add", "reason": "x"}
    api.force_authenticate(viewer)
    before = _state()
    assert getattr(api, method)(url, data, format="json").status_code == 403
    assert _state() == before


def test_api_read_only_token_cannot_write(api_as, editor, world):
    client = api_as(editor, scope="read")
    before = _state()
    assert client.post(f"/api/v1/iterations/{world['iteration'].id}/items/", {"story": world["free"].id},
                       format="json").status_code == 403
    assert _state() == before


def test_api_viewer_may_read(api, viewer, product, world):
    api.force_authenticate(viewer)
    assert api.get(f"/api/v1/iterations/{world['iteration'].id}/burndown/").status_code == 200
    assert api.get(f"/api/v1/release-scopes/{world['release'].id}/").status_code == 200
    assert api.get(f"/api/v1/change-requests/{world['cr'].id}/").status_code == 200
    assert api.get(f"/api/v1/imports/{world['job'].id}/").status_code == 403  # staging is for editors


# --- query counts ------------------------------------------------------------------------------
def _grow(product, release, editor, n=8):
    for _ in range(n):
        it = IterationFactory(product=product)
        for _ in range(2):
            s = StoryFactory(product=product, assignee=editor)
            IterationItem.objects.create(iteration=it, story=s)
            ReleaseScopeItem.objects.create(release=release, story=s)
        ChangeRequest.objects.create(release=release, story=s, kind="remove", reason="r", proposed_by=editor,
                                     status="rejected")
        ImportJob.objects.create(product=product, created_by=editor, filename="x.csv", headers=["Summary"],
                                 rows=[["a story"]] * 50)


@pytest.mark.parametrize(("url", "limit"), [
    # release-scopes: + the scope progress (workflows, epics' stories, stories added one by one).
    ("/api/v1/iterations/", 5), ("/api/v1/release-scopes/", 7), ("/api/v1/change-requests/", 5),
    ("/api/v1/imports/", 5),
])
def test_api_lists_have_a_fixed_number_of_queries(api, editor, product, release, world, url, limit,
                                                  django_assert_max_num_queries):
    _grow(product, release, editor)
    api.force_authenticate(editor)
    with django_assert_max_num_queries(limit):
        response = api.get(url)
    assert response.status_code == 200 and len(response.json()["results"]) >= 1


@pytest.mark.parametrize(("page", "limit"), [("iterations", 16), ("iteration", 20), ("release_scope", 20)])
def test_pages_have_a_fixed_number_of_queries(client_as, editor, product, release, world, page, limit,
                                              django_assert_max_num_queries):
    _grow(product, release, editor)
    url, _ = _pages(product, world)[page]
    client = client_as(editor)
    client.get(url)  # warm the session
    with django_assert_max_num_queries(limit):
        assert client.get(url).status_code == 200
