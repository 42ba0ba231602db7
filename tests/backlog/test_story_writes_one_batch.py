"""A story move reads its story, and a create its product, in the write's first round trip, after
the product's lock (issue 23, target 2; decisions 2200-2201): the answers are byte for byte what
they were; tenancy, roles and validation answer as before, in the same order, and a refused or
invalid request writes nothing; round trips to the database and the cache counted at two sizes;
identical concurrent requests still get distinct keys."""

import json
import threading
from datetime import UTC, datetime

import pytest
import redis.connection
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from rest_framework.renderers import JSONRenderer

from backlog import services
from backlog.api.serializers import StoryDetailSerializer, StorySerializer
from backlog.models import Epic, Story
from pmhub.models import Activity
from roadmaps.models import Product

from .factories import hostile_story, make_stories

pytestmark = pytest.mark.django_db
HOSTILE = '<script>alert("x")</script> & Zoë’s 🚀 \u2028 "quoted" \\ back'


def _postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("the one-batch paths run on PostgreSQL (elsewhere the earlier path, tested as before)")


def _hostile_story(product, admin):
    return hostile_story(product, admin, text=HOSTILE, criterion=False, points=None)


def _json(data) -> bytes:
    return JSONRenderer().render(data)


def test_a_move_answers_the_serializers_bytes_for_hostile_text_decimals_and_nulls(api_as, product, admin):
    _postgresql()
    story = _hostile_story(product, admin)
    first = Story.objects.filter(product=product).order_by("rank").first()
    client = api_as(admin)
    for body in ({"before": first.id}, {"after": first.id}):
        moved = client.post(f"/api/v1/stories/{story.id}/move/", body, format="json")
        assert moved.status_code == 200, moved.content
        stored = Story.objects.select_related("epic", "assignee").get(pk=story.pk)
        assert moved.content == _json(StorySerializer(stored).data)
        # The earlier path (a query string takes it) answers the same bytes for the same story.
        again = client.post(f"/api/v1/stories/{story.id}/move/?format=json", body, format="json")
        stored = Story.objects.select_related("epic", "assignee").get(pk=story.pk)
        assert again.content == _json(StorySerializer(stored).data)
    order = list(Story.objects.filter(product=product).order_by("rank").values_list("id", flat=True))
    assert order.index(story.id) == order.index(first.id) + 1


def test_a_create_answers_the_detail_serializers_bytes(api_as, product, admin, editor):
    _postgresql()
    services.custom_field_create(actor=admin, product=product, key="team", label="Team", type="text")
    services.custom_field_create(actor=admin, product=product, key="size", label="Size", type="number")
    services.custom_field_create(actor=admin, product=product, key="owner", label="Owner", type="user")
    epic = Epic.objects.create(product=product, title=f"Épique {HOSTILE}")
    make_stories(product, 2, actor=admin)
    client = api_as(admin)
    body = {"product": product.id, "title": f"  {HOSTILE}  ", "description": HOSTILE, "labels": ["b", "<i>&é", "b"],
            "score_inputs": {"reach": 1000, "impact": 2.5, "confidence": 80, "effort": 3},
            "custom_values": {"team": HOSTILE, "size": 3.25, "owner": editor.id}, "points": None,
            "epic_id": epic.id, "assignee_id": editor.id, "moscow": "must",
            "acceptance_criteria": [f"Première {HOSTILE}", "Second"]}
    created = client.post("/api/v1/stories/", body, format="json")
    assert created.status_code == 201, created.content
    story_id = created.json()["id"]
    stored = (Story.objects.select_related("epic", "assignee", "product__scoring_model")
              .prefetch_related("criteria").get(pk=story_id))
    assert created.content == _json(StoryDetailSerializer(stored).data)
    assert created.content == client.get(f"/api/v1/stories/{story_id}/").content
    assert [c["text"] for c in created.json()["criteria"]] == [f"Première {HOSTILE}".strip(), "Second"]
    assert created.json()["score"] is not None and created.json()["points"] is None
    top = client.post("/api/v1/stories/", {"product": product.id, "title": "Top"}, format="json")
    assert top.status_code == 201
    ranks = list(Story.objects.filter(product=product).order_by("rank").values_list("id", flat=True))
    assert ranks[-2:] == [story_id, top.json()["id"]]  # each at the bottom


def _counts(product):
    return (Story.objects.filter(product=product).count(), Activity.objects.count(),
            list(Story.objects.filter(product=product).order_by("rank").values_list("id", "rank", "version")))


def test_refused_and_invalid_moves_answer_as_before_and_write_nothing(api_as, product, admin, viewer,
                                                                     foreign_story, foreign_product, outsider):
    _postgresql()
    a, b, c = make_stories(product, 3, actor=admin)
    client, viewing, stranger = api_as(admin), api_as(viewer), api_as(outsider)
    before = _counts(product), _counts(foreign_product)
    cases = [
        (stranger, a.id, {"before": b.id}, 404),  # another workspace's story
        (stranger, a.id, {"before": "x"}, 404),  # the 404 comes before the body's 400
        (client, foreign_story.id, {"before": a.id}, 404),
        (client, 999999999, {"before": a.id}, 404),
        (viewing, a.id, {"before": b.id}, 403),
        (viewing, a.id, {"before": "x"}, 403),
        (client, a.id, {"before": foreign_story.id}, 400),  # another backlog's anchor
        (client, a.id, {"before": 999999999}, 400),
        (client, a.id, {"before": a.id}, 400),  # next to itself
        (client, a.id, {"before": b.id, "after": c.id}, 400),
        (client, a.id, {}, 400),
        (client, a.id, {"before": "x"}, 400),
    ]
    for who, story_id, body, status in cases:
        response = who.post(f"/api/v1/stories/{story_id}/move/", body, format="json")
        assert response.status_code == status, (story_id, body, response.content)
        # The same request through the earlier path (a query string takes it) answers the same.
        earlier = who.post(f"/api/v1/stories/{story_id}/move/?format=json", body, format="json")
        assert (earlier.status_code, earlier.content) == (response.status_code, response.content)
    # A malformed body: the story's 404 first, as before; a member gets the parser's 400.
    for who, status in ((stranger, 404), (client, 400)):
        response = who.post(f"/api/v1/stories/{a.id}/move/", data="{nope", content_type="application/json")
        assert response.status_code == status
    assert (_counts(product), _counts(foreign_product)) == before
    # An anchor of another backlog names the side in its error, as before.
    refused = client.post(f"/api/v1/stories/{a.id}/move/", {"after": foreign_story.id}, format="json")
    assert refused.status_code == 400 and "after" in json.dumps(refused.json())


def test_refused_and_invalid_creates_answer_as_before_and_write_nothing(api_as, product, admin, viewer,
                                                                       foreign_product, outsider):
    _postgresql()
    services.custom_field_create(actor=admin, product=product, key="size", label="Size", type="number")
    make_stories(product, 2, actor=admin)
    client, viewing, stranger = api_as(admin), api_as(viewer), api_as(outsider)
    Product.objects.create(workspace=product.workspace, name="Gone", deleted_at=datetime(2026, 1, 1, tzinfo=UTC))
    gone = Product.objects.get(name="Gone")
    before = _counts(product), _counts(foreign_product)
    cases = [
        (client, {"product": foreign_product.id, "title": "X"}, 404),
        (client, {"product": gone.id, "title": "X"}, 404),
        (client, {"product": 999999999, "title": "X"}, 404),
        (stranger, {"product": product.id, "title": "X"}, 404),
        (viewing, {"product": product.id, "title": "X"}, 403),
        (client, {"title": "X"}, 400),
        (client, {"product": 0, "title": "X"}, 400),
        (client, {"product": product.id, "title": "   "}, 400),
        (client, {"product": product.id, "title": "X", "status": "nope"}, 400),
        (client, {"product": product.id, "title": "X", "custom_values": {"size": "big"}}, 400),
        (client, {"product": product.id, "title": "X", "epic_id": 999999}, 400),
        (client, {"product": product.id, "title": "X", "assignee_id": outsider.id}, 400),
        (client, {"product": product.id, "title": "x" * 201}, 400),
    ]
    answers = []
    for who, body, status in cases:
        response = who.post("/api/v1/stories/", body, format="json")
        assert response.status_code == status, (body, response.content)
        answers.append(response.json())
    assert (_counts(product), _counts(foreign_product)) == before
    assert answers[5] == answers[6]  # no product, product 0: the same field error
    assert "status" in json.dumps(answers[8]) and "size" in json.dumps(answers[9])


class _RedisSends:
    def __init__(self):
        self.sent = 0
        self.commands = []

    def __enter__(self):
        original = self.original = redis.connection.AbstractConnection.send_packed_command
        counter = self

        def counting(conn, command, check_health=True):
            text = b"".join(command) if isinstance(command, list) else bytes(command)
            # A new connection's handshake (a test's fresh client) is not a round trip of the request.
            if not any(f"\r\n{name}\r\n".encode() in text[:40] for name in ("CLIENT", "SELECT", "HELLO", "PING")):
                counter.sent += 1
                counter.commands.append(text[:60])
            return original(conn, command, check_health)

        redis.connection.AbstractConnection.send_packed_command = counting
        return self

    def __exit__(self, *exc):
        redis.connection.AbstractConnection.send_packed_command = self.original


# Per request, after warming: database statements as the tests count them (the transaction's
# savepoint and release in place of BEGIN and COMMIT; production adds the connection's health
# check) and cache round trips (the throttle with the token, the subscribers' MGET, the live
# event's number). move: savepoint, [commit mode, lock, story with anchor keys], [update,
# activity], release. create: savepoint, [lock, product with end key and new id], [insert, status
# event, activity, read-back], release; its subscribers and custom fields are read with the
# throttle once the process has seen a create in the product (decision 2356).
ROUND_TRIPS = {"move": (4, 3), "create": (4, 2)}


@pytest.mark.parametrize("endpoint", list(ROUND_TRIPS))
def test_round_trips_of_a_move_and_a_create_at_two_sizes(api_as, admin, workspace, endpoint,
                                                        django_capture_on_commit_callbacks):
    _postgresql()
    from django.conf import settings as django_settings

    uses_redis = "Redis" in django_settings.CACHES["default"]["BACKEND"]
    for n in (10, 120):
        product = Product.objects.create(workspace=workspace, name=f"Product {n}")
        make_stories(product, n, actor=admin)
        ids = list(Story.objects.filter(product=product).order_by("rank").values_list("id", flat=True))
        client = api_as(admin)
        def call(i, client=client, ids=ids, product=product):
            if endpoint == "move":
                return client.post(f"/api/v1/stories/{ids[-1 - i]}/move/", {"before": ids[0]}, format="json")
            return client.post("/api/v1/stories/", {"product": product.id, "title": f"N {i}"}, format="json")

        call(1)  # warm the process caches and the subscriber summaries
        with (CaptureQueriesContext(connection) as queries, _RedisSends() as redis_sends,
              django_capture_on_commit_callbacks(execute=True)):  # what runs after the commit counts too
            response = call(2)
        assert response.status_code in (200, 201), response.content
        queries_expected, cache_expected = ROUND_TRIPS[endpoint]
        assert len(queries.captured_queries) == queries_expected, [q["sql"][:80] for q in queries.captured_queries]
        if uses_redis:
            assert redis_sends.sent == cache_expected, redis_sends.commands


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("endpoint", ["move", "create"])
def test_identical_concurrent_requests_get_distinct_keys(api_as, admin, workspace, endpoint):
    _postgresql()
    product = Product.objects.create(workspace=workspace, name="Busy")
    make_stories(product, 6, actor=admin)
    ids = list(Story.objects.filter(product=product).order_by("rank").values_list("id", flat=True))
    clients = [api_as(admin) for _ in range(4)]
    start, answers = threading.Barrier(len(clients)), []

    def send(client, i):
        try:
            start.wait()
            if endpoint == "move":  # each moves another story before the same anchor
                answers.append(client.post(f"/api/v1/stories/{ids[-1 - i]}/move/", {"before": ids[0]},
                                           format="json").status_code)
            else:
                answers.append(client.post("/api/v1/stories/", {"product": product.id, "title": "Same"},
                                           format="json").status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(c, i)) for i, c in enumerate(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [200 if endpoint == "move" else 201] * len(clients)
    ranks = list(Story.objects.filter(product=product).values_list("rank", flat=True))
    assert len(ranks) == len(set(ranks))
    order = list(Story.objects.filter(product=product).order_by("rank").values_list("id", flat=True))
    if endpoint == "move":
        assert set(order[:4]) == set(ids[-4:]) and order[4] == ids[0]
    else:
        assert len(order) == 10 and order[:6] == ids


def test_the_detail_row_printer_is_the_detail_serializer(product, admin):
    """A create answers story_detail_row_of (decision 2203): StoryDetailSerializer's bytes, for a
    story with hostile text, decimals, nulls, custom values, criteria and none."""
    from backlog.api.views import story_detail_row_of

    story = _hostile_story(product, admin)
    services.criterion_add(actor=admin, story=Story.objects.select_related("product").get(pk=story.pk),
                           text=f"Première {HOSTILE}")
    plain = make_stories(product, 1, actor=admin)[0]
    for story_id in (story.id, plain.id):
        read = (Story.objects.select_related("epic", "assignee", "product__scoring_model")
                .prefetch_related("criteria").get(pk=story_id))
        assert _json(story_detail_row_of(read)) == _json(StoryDetailSerializer(read).data)


@pytest.mark.django_db(transaction=True)
def test_a_create_begins_with_its_first_batch_and_commits_or_rolls_back(api_as, admin, viewer, workspace,
                                                                       foreign_product):
    """Outside the tests' wrapping transaction (as in production), BEGIN travels with the create's
    first batch (decision 2355): the story is committed when the answer leaves, a refusal after
    the lock (404, 403, a 400 of the references) writes nothing, and the connection is left idle."""
    _postgresql()
    from psycopg2.extensions import TRANSACTION_STATUS_IDLE

    product = Product.objects.create(workspace=workspace, name="Committed")
    services.custom_field_create(actor=admin, product=product, key="size", label="Size", type="number")
    make_stories(product, 3, actor=admin)
    client = api_as(admin)
    before = _counts(product), _counts(foreign_product)
    for who, body, status in [
        (client, {"product": foreign_product.id, "title": "X"}, 404),
        (api_as(viewer), {"product": product.id, "title": "X"}, 403),
        (client, {"product": product.id, "title": "X", "status": "nope"}, 400),
        (client, {"product": product.id, "title": "X", "custom_values": {"size": "big"}}, 400),
        (client, {"product": product.id, "title": "X", "epic_id": 999999}, 400),
    ]:
        response = who.post("/api/v1/stories/", body, format="json")
        assert response.status_code == status, (body, response.content)
        assert connection.connection.info.transaction_status == TRANSACTION_STATUS_IDLE
    assert (_counts(product), _counts(foreign_product)) == before
    assert client.post("/api/v1/stories/", {"product": product.id, "title": "Warm"}, format="json").status_code == 201
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/v1/stories/", {"product": product.id, "title": HOSTILE, "points": 3,
                                                    "custom_values": {"size": 2}}, format="json")
    assert response.status_code == 201, response.content
    sent = [q["sql"] for q in queries.captured_queries if q["sql"] not in ("BEGIN", "COMMIT", "ROLLBACK")]
    begun = [i for i, sql in enumerate(sent) if sql.startswith("BEGIN;\n")]
    assert len(begun) == 1 and len(sent) - begun[0] == 2, [s[:300] for s in sent[1:]]
    assert connection.connection.info.transaction_status == TRANSACTION_STATUS_IDLE
    story = Story.objects.get(id=response.json()["id"])
    assert response.content == client.get(f"/api/v1/stories/{story.id}/").content
    assert Activity.objects.filter(verb="created story", target_id=story.id).count() == 1


def test_a_create_reads_its_cache_keys_with_the_throttle_and_sees_a_new_custom_field(api_as, admin, product):
    """The product's custom fields and its workspace's subscribers are read in the throttle's
    round trip once the process has seen a create in the product (decision 2356): a custom field
    added since is seen at once (its generation is read in that round trip too)."""
    _postgresql()
    client = api_as(admin)
    assert client.post("/api/v1/stories/", {"product": product.id, "title": "First"}, format="json").status_code == 201
    services.custom_field_create(actor=admin, product=product, key="size", label="Size", type="number")
    refused = client.post("/api/v1/stories/", {"product": product.id, "title": "X", "custom_values": {"size": "big"}},
                          format="json")
    assert refused.status_code == 400 and "size" in refused.content.decode()
    created = client.post("/api/v1/stories/", {"product": product.id, "title": "Sized", "custom_values": {"size": 2}},
                          format="json")
    assert created.status_code == 201 and created.json()["custom_values"] == {"size": 2}
    assert created.content == client.get(f"/api/v1/stories/{created.json()['id']}/").content
    for body, status in ((b"{not json", 400), (b"[]", 400), (b'{"product": "999999999"}', 404)):  # as before
        response = client.post("/api/v1/stories/", body, content_type="application/json")
        assert response.status_code == status, (body, response.content)
