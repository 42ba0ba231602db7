"""The stories API's writes in few round trips (issue 23, target 2; decisions 1960-1963): custom-field
definitions come from the cache and are never stale, a rank move commits without waiting for the
WAL flush (and only a move), a create answers the stored story."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backlog import selectors, services
from backlog.models import CustomField, Story
from roadmaps.models import Product

from .factories import make_stories

pytestmark = pytest.mark.django_db


@pytest.fixture
def product(workspace):
    return Product.objects.create(workspace=workspace, name="Acme")


def _keys(product, entity="story"):
    return [(f.key, f.label) for f in selectors.custom_fields_of(product, entity)]


def test_custom_fields_read_back_after_each_write(product, admin):
    assert _keys(product) == []
    field = services.custom_field_create(actor=admin, product=product, key="team", label="Team", type="text")
    assert _keys(product) == [("team", "Team")]
    with CaptureQueriesContext(connection) as captured:
        assert _keys(product) == [("team", "Team")]  # cached: no query
    assert captured.captured_queries == []
    services.custom_field_update(actor=admin, field=CustomField.objects.get(pk=field.pk), label="Squad")
    assert _keys(product) == [("team", "Squad")]
    services.custom_field_create(actor=admin, product=product, key="size", label="Size", type="number")
    services.custom_field_create(actor=admin, product=product, key="tier", label="Tier", type="text",
                                 entity="epic")
    assert _keys(product) == [("team", "Squad"), ("size", "Size")]
    assert _keys(product, "epic") == [("tier", "Tier")]
    services.custom_field_delete(actor=admin, field=CustomField.objects.get(pk=field.pk))
    assert _keys(product) == [("size", "Size")]


def test_products_do_not_share_custom_fields(product, workspace, admin):
    other = Product.objects.create(workspace=workspace, name="Other")
    services.custom_field_create(actor=admin, product=product, key="team", label="Team", type="text")
    assert _keys(other) == []
    services.custom_field_create(actor=admin, product=other, key="size", label="Size", type="number")
    assert (_keys(product), _keys(other)) == ([("team", "Team")], [("size", "Size")])


def test_a_create_checks_a_custom_field_defined_just_before(product, admin, api_as):
    client = api_as(admin)
    client.post("/api/v1/stories/", {"product": product.id, "title": "Warm"}, format="json")
    services.custom_field_create(actor=admin, product=product, key="size", label="Size", type="number")
    bad = client.post("/api/v1/stories/", {"product": product.id, "title": "S", "custom_values": {"size": "big"}},
                      format="json")
    assert bad.status_code == 400, bad.content
    good = client.post("/api/v1/stories/", {"product": product.id, "title": "S", "custom_values": {"size": 3}},
                       format="json")
    assert good.status_code == 201, good.content
    assert Story.objects.get(pk=good.json()["id"]).custom_values == {"size": 3}


def _sql(call) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        call()
    return [q["sql"] for q in captured.captured_queries]


def test_only_a_move_commits_without_waiting_for_the_flush(product, admin):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    first, _, last = make_stories(product, 3, actor=admin)
    story = Story.objects.select_related("product").get(pk=last.pk)
    moved = _sql(lambda: services.story_move(actor=admin, story=story, before=first.id))
    assert sum("SET LOCAL synchronous_commit = off" in q for q in moved) == 1
    created = _sql(lambda: services.story_create(actor=admin, product=product, title="New"))
    updated = _sql(lambda: services.story_update(actor=admin, story=Story.objects.get(pk=first.pk),
                                                 data={"title": "Renamed"}, version=None))
    assert not any("synchronous_commit" in q for q in created + updated)
    order = list(Story.objects.filter(product=product).order_by("rank").values_list("id", flat=True))
    assert order[:2] == [last.id, first.id]


def test_the_setting_turns_the_async_commit_off(product, admin, settings):
    settings.RANK_MOVE_ASYNC_COMMIT = False
    first, _, last = make_stories(product, 3, actor=admin)
    story = Story.objects.select_related("product").get(pk=last.pk)
    moved = _sql(lambda: services.story_move(actor=admin, story=story, before=first.id))
    assert not any("synchronous_commit" in q for q in moved)
