"""Conditional GETs of list endpoints (pmhub/api/conditional.py): a weak ETag, 304 with no body
on If-None-Match, a new tag after any change, never one tag across workspaces or roles."""

import pytest

from backlog import services
from backlog.models import Story
from pmhub.models import Membership, Role

from .factories import make_stories

pytestmark = pytest.mark.django_db


def _list(client, product, etag=None, query=""):
    headers = {"HTTP_IF_NONE_MATCH": etag} if etag else {}
    return client.get(f"/api/v1/stories/?product={product.id}{query}", **headers)


def test_list_has_a_weak_etag_and_answers_304_with_no_body(api_as, admin, product, stories):
    client = api_as(admin)
    first = _list(client, product)
    assert first.status_code == 200 and first["ETag"].startswith('W/"')
    assert "private" in first["Cache-Control"] and "Authorization" in first["Vary"]
    again = _list(client, product, first["ETag"])
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == first["ETag"]
    assert _list(client, product, f'"other", {first["ETag"]}').status_code == 304  # a list of tags
    assert _list(client, product, 'W/"something-else"').status_code == 200


def test_a_write_changes_the_tag_at_once(api_as, admin, product, stories):
    client = api_as(admin)
    etag = _list(client, product)["ETag"]
    story = Story.objects.get(pk=stories[0].pk)
    services.story_update(actor=admin, story=story, data={"title": "Renamed"}, version=story.version)
    changed = _list(client, product, etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert "Renamed" in changed.content.decode()
    # a move (rank only) and a create change it too
    etag = changed["ETag"]
    services.story_move(actor=admin, story=Story.objects.get(pk=stories[4].pk), before=stories[0].pk)
    moved = _list(client, product, etag)
    assert moved.status_code == 200 and moved["ETag"] != etag
    make_stories(product, 1, actor=admin)
    assert _list(client, product, moved["ETag"]).status_code == 200


def test_the_query_string_is_part_of_the_tag(api_as, admin, product, stories):
    client = api_as(admin)
    etag = _list(client, product)["ETag"]
    other = _list(client, product, etag, query="&page_size=2")
    assert other.status_code == 200 and other["ETag"] != etag


def test_no_tag_is_shared_across_workspaces_or_roles(api_as, admin, outsider, viewer, product, foreign_product):
    # Two empty lists in two workspaces: the same body, never the same tag.
    mine = api_as(admin).get("/api/v1/stories/?status=done")
    theirs = api_as(outsider).get("/api/v1/stories/?status=done")
    assert mine.json()["results"] == theirs.json()["results"] == []
    assert mine["ETag"] != theirs["ETag"]
    assert api_as(outsider).get("/api/v1/stories/?status=done", HTTP_IF_NONE_MATCH=mine["ETag"]).status_code == 200
    # Same workspace, same body, another role: another tag.
    as_viewer = api_as(viewer).get("/api/v1/stories/?status=done")
    assert as_viewer["ETag"] != mine["ETag"]


def test_a_role_change_changes_the_tag(api_as, admin, editor, workspace, product, stories):
    client = api_as(editor)
    etag = _list(client, product)["ETag"]
    membership = Membership.objects.get(user=editor, workspace=workspace)
    membership.role = Role.VIEWER
    membership.save(update_fields=["role"])
    assert _list(client, product, etag).status_code == 200


def test_errors_and_details_carry_no_list_tag(api_as, admin, product, stories):
    client = api_as(admin)
    assert "ETag" not in client.get(f"/api/v1/stories/{stories[0].pk}/")
    assert client.get("/api/v1/stories/?product=abc").status_code == 400
