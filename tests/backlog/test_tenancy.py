"""Tenancy and roles for every backlog endpoint and page: an outsider gets 404 (GET, PUT,
PATCH, DELETE), a viewer 403 on writes; in both cases nothing changes."""

import pytest
from django.urls import reverse

from backlog import services
from backlog.models import Comment, CustomField, Epic, SavedView, ScoringModel, Story

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(admin, product, stories):
    epic = services.epic_create(actor=admin, product=product, title="Epic A")
    field = services.custom_field_create(actor=admin, product=product, key="tier", label="Tier", type="text")
    view = services.saved_view_create(actor=admin, product=product, name="Shared", config={}, shared=True)
    return {"story": stories[0], "epic": epic, "field": field, "view": view,
            "product": product}


def snapshot():
    return (list(Story.objects.order_by("id").values_list("id", "title", "status", "rank", "version", "score")),
            list(Epic.objects.values_list("id", "title", "version")),
            list(CustomField.objects.values_list("id", "label")),
            list(SavedView.objects.values_list("id", "name")), list(ScoringModel.objects.values_list("id", "framework")),
            Comment.objects.count())


DETAIL = {
    "story": "/api/v1/stories/{story}/",
    "epic": "/api/v1/epics/{epic}/",
    "field": "/api/v1/custom-fields/{field}/",
    "view": "/api/v1/saved-views/{view}/",
}
PAYLOAD = {"title": "pwned", "label": "pwned", "quote": "pwned", "name": "pwned", "customer": "x", "version": 1}


def _url(template, world):
    return template.format(**{k: getattr(v, "id", v) for k, v in world.items()})


@pytest.mark.parametrize("resource", list(DETAIL))
@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_outsider_gets_404_on_every_object_endpoint(api, outsider, world, resource, method):
    before = snapshot()
    api.force_authenticate(outsider)
    response = getattr(api, method)(_url(DETAIL[resource], world), PAYLOAD, format="json")
    assert response.status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("resource", list(DETAIL))
@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_viewer_gets_403_on_writes(api, viewer, world, resource, method):
    before = snapshot()
    api.force_authenticate(viewer)
    response = getattr(api, method)(_url(DETAIL[resource], world), PAYLOAD, format="json")
    assert response.status_code == 403, response.content
    assert snapshot() == before


ACTIONS = [
    ("post", "/api/v1/stories/{story}/move/", {"before": 0}),
    ("post", "/api/v1/stories/{story}/comments/", {"body": "hi"}),
    ("post", "/api/v1/stories/{story}/criteria/", {"text": "x"}),
    ("put", "/api/v1/backlog-products/{product}/scoring-model/", {"framework": "ice"}),
    ("put", "/api/v1/backlog-products/{product}/settings/", {"segment_weights": {"A": 2}}),
    ("post", "/api/v1/stories/", {"product": "{product}", "title": "x"}),
    ("post", "/api/v1/epics/", {"product": "{product}", "title": "x"}),
    ("post", "/api/v1/custom-fields/", {"product": "{product}", "key": "k", "label": "K", "type": "text"}),
    ("post", "/api/v1/stories/bulk/", {"product": "{product}", "ids": ["{story}"], "status": "done"}),
]


def _payload(payload, world):
    out = {}
    for k, v in payload.items():
        if isinstance(v, str) and v.startswith("{"):
            v = int(_url(v, world))
        elif isinstance(v, list):
            v = [int(_url(x, world)) for x in v]
        out[k] = v
    return out


@pytest.mark.parametrize("method,url,payload", ACTIONS)
def test_outsider_gets_404_on_actions(api, outsider, world, method, url, payload):
    before = snapshot()
    api.force_authenticate(outsider)
    response = getattr(api, method)(_url(url, world), _payload(payload, world), format="json")
    assert response.status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("method,url,payload", ACTIONS)
def test_viewer_gets_403_on_actions(api, viewer, world, method, url, payload):
    before = snapshot()
    payload = _payload(payload, world)
    if payload.get("before") == 0:
        payload["before"] = Story.objects.exclude(id=world["story"].id).first().id
    api.force_authenticate(viewer)
    response = getattr(api, method)(_url(url, world), payload, format="json")
    assert response.status_code == 403, response.content
    assert snapshot() == before


@pytest.mark.parametrize("url", ["/api/v1/stories/", "/api/v1/epics/", "/api/v1/custom-fields/",
                                 "/api/v1/saved-views/"])
def test_outsider_lists_nothing_of_acme(api, outsider, world, url):
    api.force_authenticate(outsider)
    assert api.get(url).json()["results"] == []


@pytest.mark.parametrize("url", ["/api/v1/backlog-products/{product}/scoring-model/",
                                 "/api/v1/backlog-products/{product}/settings/",
                                 "/api/v1/stories/{story}/comments/"])
def test_outsider_gets_404_on_product_reads(api, outsider, world, url):
    api.force_authenticate(outsider)
    assert api.get(_url(url, world)).status_code == 404


def test_read_only_token_cannot_write(api_as, admin, world):
    client = api_as(admin, scope="read")
    before = snapshot()
    r = client.patch(f"/api/v1/stories/{world['story'].id}/", {"title": "x", "version": 1}, format="json")
    assert r.status_code == 403
    assert snapshot() == before


# --- pages ------------------------------------------------------------------------------------
def page_urls(world):
    kw = {"ws": "acme", "product_id": world["product"].id}
    s = {**kw, "story_id": world["story"].id}
    return {
        "list": reverse("backlog:list", kwargs=kw), "rows": reverse("backlog:rows", kwargs=kw),
        "epics": reverse("backlog:epics", kwargs=kw), "scoring": reverse("backlog:scoring", kwargs=kw),
        "settings": reverse("backlog:settings", kwargs=kw),
        "story": reverse("backlog:story", kwargs=s), "row": reverse("backlog:row", kwargs=s),
        "epic": reverse("backlog:epic", kwargs={**kw, "epic_id": world["epic"].id}),
    }


POST_PAGES = {
    "list": {"title": "x"}, "epics": {"title": "x"}, "scoring": {"framework": "ice"},
    "settings": {"action": "weights", "weights": "A=2"},
    "story": {"title": "pwned", "version": "1"}, "row": {"status": "done", "version": "1"},
    "epic": {"title": "pwned", "version": "1"},
}
ACTION_PAGES = {
    "move": ("backlog:move", {"before": "0"}), "bulk": ("backlog:bulk", {"ids": "0", "status": "done"}),
    "comment": ("backlog:comment", {"body": "hi @admin"}), "criterion_add": ("backlog:criterion_add", {"text": "x"}),
    "story_delete": ("backlog:story_delete", {}),
}


def _action_url(world, name):
    kw = {"ws": "acme", "product_id": world["product"].id}
    if name != "backlog:bulk":
        kw["story_id"] = world["story"].id
    return reverse(name, kwargs=kw)


def _fill(data, world):
    other = Story.objects.exclude(id=world["story"].id).first().id
    return {k: (str(other) if k == "before" else str(world["story"].id) if k == "ids" else v) for k, v in data.items()}


@pytest.mark.parametrize("page", ["list", "rows", "epics", "scoring", "settings", "story", "row", "epic"])
def test_outsider_gets_404_on_pages(client_as, outsider, world, page):
    url = page_urls(world)[page]
    assert client_as(outsider).get(url).status_code == 404
    # Even with their own workspace's slug, the acme product is not found.
    assert client_as(outsider).get(url.replace("/w/acme/", "/w/globex/")).status_code == 404


@pytest.mark.parametrize("page", list(POST_PAGES))
def test_outsider_post_to_pages_is_404_and_changes_nothing(client_as, outsider, world, page):
    before = snapshot()
    assert client_as(outsider).post(page_urls(world)[page], POST_PAGES[page]).status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("page", list(POST_PAGES))
def test_viewer_post_to_pages_is_403_and_changes_nothing(client_as, viewer, world, page):
    before = snapshot()
    assert client_as(viewer).post(page_urls(world)[page], POST_PAGES[page]).status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("action", list(ACTION_PAGES))
def test_page_actions_refuse_viewer_and_outsider(client_as, viewer, outsider, world, action):
    name, data = ACTION_PAGES[action]
    before = snapshot()
    url = _action_url(world, name)
    assert client_as(viewer).post(url, _fill(data, world)).status_code == 403
    assert client_as(outsider).post(url, _fill(data, world)).status_code == 404
    assert snapshot() == before


def test_editor_cannot_change_settings_page(client_as, editor, world):
    before = snapshot()
    r = client_as(editor).post(page_urls(world)["settings"], {"action": "field", "key": "k", "label": "K",
                                                               "type": "text"})
    assert r.status_code == 403
    assert snapshot() == before


def test_story_of_another_product_in_the_url_is_404(client_as, admin, world, foreign_story):
    url = reverse("backlog:story", kwargs={"ws": "acme", "product_id": world["product"].id,
                                           "story_id": foreign_story.id})
    assert client_as(admin).get(url).status_code == 404
