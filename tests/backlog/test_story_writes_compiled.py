"""The stories API's get, move and create from statements compiled once (issue 23, target 2;
decisions 2110-2113): the answers are the ORM path's, byte for byte; tenancy and roles as before;
each statement built once; a create reads its custom fields and subscribers in one cache round
trip; write serializers validate like DRF's with fields built once."""

import json
from datetime import UTC, datetime

import pytest
from django.core.cache import cache
from django.db import connection

from backlog import services
from backlog.api import views
from backlog.api.serializers import StorySerializer, StoryWriteSerializer
from backlog.models import Story
from pmhub import sqlbatch
from roadmaps.models import Product

from .factories import hostile_story, make_stories

pytestmark = pytest.mark.django_db
HOSTILE = '<script>alert("x")</script> & Zoë’s 🚀 \u2028'


def _hostile_story(product, admin):
    return hostile_story(product, admin)


def test_get_from_compiled_sql_answers_what_drfs_path_answers(api_as, product, admin):
    if connection.vendor != "postgresql":
        pytest.skip("compiled on PostgreSQL only")
    story = _hostile_story(product, admin)
    client = api_as(admin)
    compiled = client.get(f"/api/v1/stories/{story.id}/")
    orm = client.get(f"/api/v1/stories/{story.id}/?format=json")  # a query string: DRF's get_object
    assert compiled.status_code == orm.status_code == 200
    assert compiled.content == orm.content
    assert compiled.headers.get("ETag") == orm.headers.get("ETag")
    assert json.loads(compiled.content)["criteria"][0]["text"] == f"Première {HOSTILE}".strip()
    query = views._DETAIL_QUERIES[(True, views.askers_key())]
    client.get(f"/api/v1/stories/{story.id}/")
    assert views._DETAIL_QUERIES[(True, views.askers_key())] is query  # built once, reused


def test_compiled_story_reads_keep_tenancy_roles_and_deleted_products(api_as, product, admin, viewer,
                                                                      foreign_story, outsider):
    mine = make_stories(product, 2, actor=admin)
    client, viewing = api_as(admin), api_as(viewer)
    # Another workspace's story: 404 to get and to move, as for an id that does not exist.
    for path in (f"/api/v1/stories/{foreign_story.id}/", "/api/v1/stories/999999999/"):
        assert client.get(path).status_code == 404
    moved = client.post(f"/api/v1/stories/{foreign_story.id}/move/", {"before": mine[0].id}, format="json")
    assert moved.status_code == 404
    assert api_as(outsider).get(f"/api/v1/stories/{foreign_story.id}/").status_code == 200  # its own: found
    # A viewer reads but does not move; the same move made by an editor is accepted.
    assert viewing.get(f"/api/v1/stories/{mine[1].id}/").status_code == 200
    rank = Story.objects.get(pk=mine[1].pk).rank
    refused = viewing.post(f"/api/v1/stories/{mine[1].id}/move/", {"before": mine[0].id}, format="json")
    assert refused.status_code == 403
    assert Story.objects.get(pk=mine[1].pk).rank == rank
    accepted = client.post(f"/api/v1/stories/{mine[1].id}/move/", {"before": mine[0].id}, format="json")
    assert accepted.status_code == 200
    # A story of a deleted product is gone.
    Product.objects.filter(pk=product.pk).update(deleted_at=datetime(2026, 1, 1, tzinfo=UTC))
    assert client.get(f"/api/v1/stories/{mine[0].id}/").status_code == 404
    assert client.post(f"/api/v1/stories/{mine[0].id}/move/", {"before": mine[1].id},
                       format="json").status_code == 404


def test_move_answers_the_serializers_json_of_the_moved_story(api_as, product, admin):
    story = _hostile_story(product, admin)
    first = Story.objects.filter(product=product).order_by("rank").first()
    moved = api_as(admin).post(f"/api/v1/stories/{story.id}/move/", {"before": first.id}, format="json")
    assert moved.status_code == 200
    stored = Story.objects.select_related("epic", "assignee").get(pk=story.pk)
    assert moved.json() == json.loads(json.dumps(StorySerializer(stored).data))
    assert views.story_row_of(stored) == StorySerializer(stored).data


def test_move_statements_compiled_once_are_the_orms(product, admin):
    """The anchor reads and the end reads: the SQL the ORM compiles, with the values in place."""
    from backlog.services import _ANCHOR_READS, _END_READS, _anchor_read, _product_lock_of

    a, b, c = make_stories(product, 3, actor=admin)
    for before in (True, False):
        orm = sqlbatch.select_of(_anchor_read(product.id, c.id, b.id, before=before))
        compiled = _ANCHOR_READS[before].statement(product.id, c.id, b.id)
        assert (compiled[0], tuple(compiled[1])) == (orm[0], tuple(orm[1]))
        assert sqlbatch.run([compiled]) == sqlbatch.run([orm])
    assert sqlbatch.run([_ANCHOR_READS[True].statement(product.id, c.id, b.id)]) == [(b.rank, a.rank)]
    assert sqlbatch.run([_END_READS[False].statement(product.id)]) == [(c.rank,)]
    assert sqlbatch.run([_END_READS[True].statement(product.id)]) == [(a.rank,)]
    lock_sql, lock_params = _product_lock_of(product.id)
    assert "FOR UPDATE" in lock_sql and list(lock_params) == [product.id]


def test_a_create_reads_custom_fields_and_subscribers_in_one_cache_round_trip(api_as, product, admin, monkeypatch):
    client = api_as(admin)
    services.custom_field_create(actor=admin, product=product, key="size", label="Size", type="number")
    client.post("/api/v1/stories/", {"product": product.id, "title": "Warm"}, format="json")  # summaries stored
    reads = []
    get_many = cache.get_many
    monkeypatch.setattr(cache, "get_many", lambda keys, *a, **k: reads.append(list(keys)) or get_many(keys, *a, **k))
    created = client.post("/api/v1/stories/", {"product": product.id, "title": "S", "custom_values": {"size": 3}},
                          format="json")
    assert created.status_code == 201, created.content
    # On Redis they come with the throttle's script (decision 2356): no MGET of their own.
    from django.conf import settings as django_settings

    if "Redis" in django_settings.CACHES["default"]["BACKEND"]:
        assert reads == []
    else:
        assert len(reads) == 1 and any(":customfields:" in key for key in reads[0])
    # The fields are still current: a definition made now is checked by the next create.
    services.custom_field_create(actor=admin, product=product, key="team", label="Team", type="number")
    bad = client.post("/api/v1/stories/", {"product": product.id, "title": "S", "custom_values": {"team": "x"}},
                      format="json")
    assert bad.status_code == 400
    assert not Story.objects.filter(product=product, custom_values__team="x").exists()


def test_write_serializers_with_fields_built_once_validate_like_drf(product):
    bad = StoryWriteSerializer(data={"title": "x" * 201, "labels": ["ok", "y" * 41], "points": 1001,
                                     "custom_values": {"a": None}})
    good = StoryWriteSerializer(data={"title": "Fine", "labels": ["ux"], "points": 3, "score_inputs": {"reach": 2}})
    assert not bad.is_valid() and good.is_valid(), good.errors
    assert set(bad.errors) == {"title", "labels", "points"}
    assert list(bad.errors["labels"]) == [1]  # the child's error, by the item's index
    assert good.validated_data == {"title": "Fine", "labels": ["ux"], "points": 3, "score_inputs": {"reach": 2}}
    assert bad.fields["labels"] is not good.fields["labels"]
    assert bad.fields["labels"].child is not good.fields["labels"].child
    # Shallow copies of a list field and its child (decision 2304): each child's parent is its own copy.
    for serializer in (bad, good):
        for name in ("labels", "score_inputs", "custom_values", "acceptance_criteria"):
            assert serializer.fields[name].child.parent is serializer.fields[name], name
            assert serializer.fields[name].parent is serializer, name
    built = StoryWriteSerializer.__dict__["_fields_built"]["labels"]
    assert built.child.parent is built  # the class's own fields untouched
    assert bad.fields["title"] is not good.fields["title"] and good.fields["title"].parent is good
