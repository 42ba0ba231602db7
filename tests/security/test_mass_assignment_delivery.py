"""Delivery writes that name stories and releases (iteration plans, release scope, change requests)
take them from the same product only: a story of another product or workspace is refused (400 on
the `story` field), and no row of either workspace changes. The actor (`bridge`) is an admin of both
workspaces; with a token of one workspace the other one does not exist (404)."""

import pytest
from django.urls import reverse

from delivery import services
from tests.delivery.factories import IterationFactory, ProductFactory, ReleaseFactory, StoryFactory

from .massassign import nothing_changes

pytestmark = pytest.mark.django_db


@pytest.fixture
def ours(workspace):
    product = ProductFactory(workspace=workspace)
    return {"product": product, "iteration": IterationFactory(product=product),
            "release": ReleaseFactory(product=product), "story": StoryFactory(product=product)}


@pytest.fixture
def api(bridge_api):
    return bridge_api


def _stories(strangers):
    return [w["backlog.Story"].pk for w in strangers]


def test_iteration_cannot_plan_or_unplan_a_story_of_another_product(api, client_as, bridge, ours, strangers,
                                                                    workspace, other_workspace):
    iteration = ours["iteration"]
    page = client_as(bridge)
    url = reverse("delivery:iteration_items", kwargs={"ws": workspace.slug, "product_id": ours["product"].id,
                                                      "iteration_id": iteration.id})
    for story in _stories(strangers):
        for action, path in (("add", "items"), ("remove", "items/remove")):
            with nothing_changes(workspace, other_workspace):
                response = api.post(f"/api/v1/iterations/{iteration.id}/{path}/", {"story": story}, format="json")
                assert page.post(url, {"story": story, "action": action},
                                 HTTP_ACCEPT="application/json").status_code == 400
            assert response.status_code == 400 and "story" in response.json()["errors"]


@pytest.mark.parametrize("approved", [False, True], ids=["open scope", "approved scope"])
def test_release_scope_cannot_take_a_story_of_another_product(api, client_as, bridge, ours, strangers, approved,
                                                              workspace, other_workspace):
    release = ours["release"]
    if approved:
        services.scope_approve(actor=bridge, release=release)
    page = client_as(bridge)
    url = reverse("delivery:release_scope", kwargs={"ws": workspace.slug, "product_id": ours["product"].id,
                                                    "release_id": release.id})
    for story in _stories(strangers):
        for kind in ("add", "remove"):
            with nothing_changes(workspace, other_workspace):
                response = api.post(f"/api/v1/release-scopes/{release.id}/{kind}/",
                                    {"story": story, "reason": "Asked"}, format="json")
                assert page.post(url, {"story": story, "kind": kind, "reason": "Asked"}).status_code == 400
            assert response.status_code == 400 and "story" in response.json()["errors"]


def test_change_request_pairs_a_release_and_a_story_of_one_product(api, api_as, bridge, ours, strangers, workspace,
                                                                   other_workspace):
    """Our release with their story, their release with our story: refused. With a token of our
    workspace their release does not exist."""
    services.scope_approve(actor=bridge, release=ours["release"])
    theirs = strangers[1]
    services.scope_approve(actor=bridge, release=theirs["roadmaps.Release"])
    pairs = [(ours["release"].id, story) for story in _stories(strangers)]
    pairs += [(w["roadmaps.Release"].pk, ours["story"].id) for w in strangers]
    for release, story in pairs:
        with nothing_changes(workspace, other_workspace):
            response = api.post("/api/v1/change-requests/", {"release": release, "story": story, "kind": "add",
                                                             "reason": "Asked"}, format="json")
        assert response.status_code == 400 and "story" in response.json()["errors"], response.content
    token = api_as(bridge, workspace)
    with nothing_changes(workspace, other_workspace):
        response = token.post("/api/v1/change-requests/", {"release": theirs["roadmaps.Release"].pk,
                                                           "story": theirs["backlog.Story"].pk, "kind": "add",
                                                           "reason": "Asked"}, format="json")
    assert response.status_code == 404
