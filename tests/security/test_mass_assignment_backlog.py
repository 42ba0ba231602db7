"""Backlog bulk and nested writes name ids of one product only: ids of another product or another
workspace mixed with our own are refused whole (400 naming them), and no row of either workspace
changes. The actor (`bridge`) is an admin of both workspaces, so every id is visible to them."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from backlog.models import Story
from tests.backlog.factories import make_stories
from tests.roadmaps.factories import ProductFactory

from .massassign import ids_of, names_all, nothing_changes

pytestmark = pytest.mark.django_db


@pytest.fixture
def ours(workspace, bridge):
    product = ProductFactory(workspace=workspace)
    make_stories(product, 3, actor=bridge)
    return product


@pytest.fixture
def api(bridge_api):
    return bridge_api


def test_bulk_edit_with_stories_of_another_backlog_changes_nothing(api, ours, strangers, workspace, other_workspace):
    mine = list(ours.stories.values_list("id", flat=True))
    theirs = ids_of(strangers, "backlog.Story")
    with nothing_changes(workspace, other_workspace):
        response = api.post("/api/v1/stories/bulk/", {"product": ours.id, "ids": mine + theirs, "status": "done",
                                                      "add_labels": ["pwned"]}, format="json")
    assert response.status_code == 400
    assert names_all(response, "ids", theirs)
    assert not any(str(i) in " ".join(response.json()["errors"]["ids"]) for i in mine)


def test_bulk_edit_cannot_move_our_stories_into_another_products_epic(api, ours, strangers, workspace,
                                                                      other_workspace):
    mine = list(ours.stories.values_list("id", flat=True))
    for epic_id in ids_of(strangers, "backlog.Epic"):
        with nothing_changes(workspace, other_workspace):
            response = api.post("/api/v1/stories/bulk/", {"product": ours.id, "ids": mine, "epic_id": epic_id},
                                format="json")
        assert response.status_code == 400 and "epic_id" in response.json()["errors"]


def test_bulk_edit_page_with_stories_of_another_backlog_changes_nothing(client_as, bridge, ours, strangers,
                                                                        workspace, other_workspace):
    client = client_as(bridge)
    url = reverse("backlog:bulk", kwargs={"ws": workspace.slug, "product_id": ours.id})
    ids = list(ours.stories.values_list("id", flat=True)) + ids_of(strangers, "backlog.Story")
    with nothing_changes(workspace, other_workspace):
        response = client.post(url, {"ids": ids, "status": "done"})
    assert response.status_code == 302
    errors = [str(m) for m in get_messages(response.wsgi_request)]
    assert any(all(str(i) in e for i in ids_of(strangers, "backlog.Story")) for e in errors), errors


@pytest.mark.parametrize("side", ["before", "after"])
def test_story_cannot_move_next_to_a_story_of_another_backlog(api, client_as, bridge, ours, strangers, side,
                                                              workspace, other_workspace):
    story = ours.stories.order_by("rank").first()
    page = client_as(bridge)
    page_url = reverse("backlog:move", kwargs={"ws": workspace.slug, "product_id": ours.id, "story_id": story.id})
    for anchor in ids_of(strangers, "backlog.Story"):
        with nothing_changes(workspace, other_workspace):
            response = api.post(f"/api/v1/stories/{story.id}/move/", {side: anchor}, format="json")
            page.post(page_url, {side: anchor})
        assert response.status_code == 400 and side in response.json()["errors"]


def test_feedback_cannot_link_stories_or_epics_of_another_backlog(api, ours, strangers, workspace,
                                                                  other_workspace):
    """POST /api/v1/feedback/ (discovery's, filing into the inbox): foreign ids refused whole, named."""
    mine = list(ours.stories.values_list("id", flat=True))[:1]
    theirs, their_epics = ids_of(strangers, "backlog.Story"), ids_of(strangers, "backlog.Epic")
    body = {"story_ids": mine + theirs, "epic_ids": their_epics}
    with nothing_changes(workspace, other_workspace):
        created = api.post("/api/v1/feedback/", {"product": ours.id, "customer": "Hooli", "quote": "More", **body},
                           format="json")
    assert created.status_code == 400
    assert names_all(created, "story_ids", theirs) and names_all(created, "epic_ids", their_epics)


def test_feedback_page_cannot_link_stories_of_another_backlog(client_as, bridge, ours, strangers, workspace,
                                                              other_workspace):
    url = reverse("discovery:feedback", kwargs={"ws": workspace.slug, "product_id": ours.id})
    with nothing_changes(workspace, other_workspace):
        response = client_as(bridge).post(url, {"customer": "Hooli", "quote": "More", "importance": "5",
                                                "stories": ids_of(strangers, "backlog.Story"),
                                                "epics": ids_of(strangers, "backlog.Epic")})
    assert response.status_code == 400


def test_story_cannot_take_an_epic_or_assignee_from_another_backlog(api, ours, strangers, outsider, workspace,
                                                                    other_workspace):
    story = ours.stories.first()
    for body in [{"epic_id": epic_id} for epic_id in ids_of(strangers, "backlog.Epic")] + [{"assignee_id": outsider.id}]:
        with nothing_changes(workspace, other_workspace):
            created = api.post("/api/v1/stories/", {"product": ours.id, "title": "New", **body}, format="json")
            updated = api.patch(f"/api/v1/stories/{story.id}/", {"version": story.version, **body}, format="json")
        assert created.status_code == updated.status_code == 400, (created.content, updated.content)
        assert set(body) <= set(created.json()["errors"]) and set(body) <= set(updated.json()["errors"])
    assert Story.objects.get(pk=story.pk).epic_id is None
