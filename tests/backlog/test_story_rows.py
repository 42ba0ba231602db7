"""The story list answers values() rows (pmhub/api/rows.py), not StorySerializer: the JSON must be
the serializer's, byte for byte, for stories with every field filled (custom fields, unicode,
decimals, dates) and with every nullable field empty. Issue 23, target 2."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from backlog import services
from backlog.api.serializers import StorySerializer
from backlog.models import Epic, Story
from pmhub.api.rows import TupleRows, ValuesRows

from .factories import make_stories

pytestmark = pytest.mark.django_db


def _filled(product, admin):
    epic = Epic.objects.create(product=product, title="Épique « 日本語 » ✓")
    services.custom_field_create(actor=admin, product=product, key="team", label="Team", type="text")
    services.custom_field_create(actor=admin, product=product, key="size", label="Size", type="number")
    full, empty = make_stories(product, 2, actor=admin)
    Story.objects.filter(pk=full.pk).update(
        epic=epic,
        assignee=admin,
        title='Zoë wants 🚀 "quotes" and <tags>',
        as_a="ユーザー",
        i_want="ça\nmarche",
        so_that="naïve \u2028 separators",
        description="**Markdown** ⟨x⟩",
        status="done",
        points=13,
        labels=["ux", "données", "🐛"],
        score_inputs={"reach": 1000, "impact": 2.5, "confidence": 80, "effort": 4},
        score=Decimal("12345.6789"),
        moscow=Story.MoSCoW.choices[0][0],
        kano=Story.Kano.choices[0][0],
        demand=Decimal("7.50"),
        custom_values={"team": "Équipe ☃", "size": 3.25, "none": None},
        done_at=datetime(2026, 3, 1, 23, 59, 58, 123456, tzinfo=UTC),
    )
    Story.objects.filter(pk=empty.pk).update(
        epic=None,
        assignee=None,
        points=None,
        score=None,
        done_at=None,
        labels=[],
        custom_values={},
        score_inputs={},
        moscow="",
        kano="",
    )
    return Story.objects.filter(pk__in=[full.pk, empty.pk]).select_related("epic", "assignee").order_by("rank")


def _as_json(data) -> bytes:
    return JSONRenderer().render(data)


def test_values_rows_equal_the_serializer_byte_for_byte(product, admin):
    stories = list(_filled(product, admin))
    rows = ValuesRows(StorySerializer)
    fast = rows(Story.objects.filter(pk__in=[s.pk for s in stories]).order_by("rank").values(*rows.columns))
    assert _as_json(fast) == _as_json(StorySerializer(stories, many=True).data)
    assert fast[0]["score"] == "12345.6789" and fast[0]["epic_title"].startswith("Épique")
    assert fast[1]["epic"] is None and fast[1]["score"] is None and fast[1]["done_at"] is None


def test_tuple_rows_equal_the_serializer_byte_for_byte(product, admin):
    """`rows.values(queryset)` yields tuples (JSON texts decoded once per distinct text): the same
    bytes as the serializer, for filled, empty and repeated values, in the plan's or another order."""
    stories = list(_filled(product, admin))
    more = make_stories(product, 3, actor=admin)
    Story.objects.filter(pk__in=[s.pk for s in more]).update(labels=["ux", "données", "🐛"], custom_values={})
    stories += list(Story.objects.filter(pk__in=[s.pk for s in more]).select_related("epic", "assignee"))
    stories.sort(key=lambda s: (s.rank, s.id))
    rows = ValuesRows(StorySerializer)
    queryset = Story.objects.filter(pk__in=[s.pk for s in stories]).order_by("rank", "id")
    fetched = list(rows.values(queryset))
    assert all(isinstance(row, tuple) for row in fetched) and fetched[0].rank == stories[0].rank
    expected = _as_json(StorySerializer(stories, many=True).data)
    assert _as_json(rows(fetched)) == expected
    assert _as_json(rows(queryset.values(*reversed(rows.columns)))) == expected  # dicts, any column order
    reordered = queryset.values(*reversed(rows.columns))
    reordered._iterable_class = TupleRows
    assert _as_json(rows(reordered)) == expected  # tuples in another order
    with timezone.override("Asia/Tokyo"):
        assert _as_json(rows(rows.values(queryset))) == _as_json(StorySerializer(stories, many=True).data)


def test_values_rows_follow_the_active_time_zone(product, admin):
    stories = list(_filled(product, admin))
    rows = ValuesRows(StorySerializer)
    with timezone.override("Asia/Tokyo"):
        fast = rows(Story.objects.filter(pk__in=[s.pk for s in stories]).order_by("rank").values(*rows.columns))
        assert _as_json(fast) == _as_json(StorySerializer(stories, many=True).data)
    assert fast[0]["done_at"] == "2026-03-02T08:59:58.123456+09:00"


def test_list_api_answers_the_serializer_json(api_as, product, admin):
    stories = list(_filled(product, admin))
    response = api_as(admin).get(f"/api/v1/stories/?product={product.id}")
    assert response.status_code == 200
    body = json.loads(response.content)
    assert list(body) == ["next", "previous", "results"]
    expected = json.loads(_as_json(StorySerializer(stories, many=True).data))
    assert body["results"] == expected
    assert [list(r) for r in body["results"]] == [list(StorySerializer.Meta.fields)] * 2
    # The bytes of the results, not only equal values: same key order, same number formats.
    assert _as_json(body["results"]) == _as_json(expected)


def test_list_api_pages_filters_and_orders_like_before(api_as, product, admin):
    make_stories(product, 7, actor=admin)
    for i in range(1, 8):
        Story.objects.filter(product=product, title=f"Story {i}").update(score=None if i == 3 else Decimal(i))
    client = api_as(admin)
    seen, url = [], f"/api/v1/stories/?product={product.id}&ordering=-score&page_size=3"
    while url:
        page = client.get(url).json()
        seen += [r["title"] for r in page["results"]]
        url = page["next"]
    assert seen == [f"Story {i}" for i in (7, 6, 5, 4, 2, 1, 3)]  # unscored last, across cursor pages
    found = client.get(f"/api/v1/stories/?product={product.id}&q=Story 3&status=idea").json()["results"]
    assert [r["title"] for r in found] == ["Story 3"]


def test_a_field_without_a_values_row_refuses_to_build():
    class WithMethod(StorySerializer):
        extra = serializers.SerializerMethodField()

        class Meta(StorySerializer.Meta):
            fields = [*StorySerializer.Meta.fields, "extra"]

        def get_extra(self, obj):  # pragma: no cover - never called
            return 1

    with pytest.raises(TypeError, match="extra"):
        ValuesRows(WithMethod).plan  # noqa: B018 - building the plan is the check


def test_cursor_columns_are_the_annotated_ones():
    from backlog.selectors import STORY_ORDERINGS

    for name in STORY_ORDERINGS.names():
        assert STORY_ORDERINGS.columns(name) == STORY_ORDERINGS.annotated(Story.objects.all(), name)[1]


def test_create_answers_the_story_as_a_get_reads_it(api_as, product, admin):
    """Create answers from the object it wrote (no re-read): the same JSON a GET gives after."""
    services.custom_field_create(actor=admin, product=product, key="team", label="Team", type="text")
    services.custom_field_create(actor=admin, product=product, key="owner", label="Owner", type="user")
    services.custom_field_create(actor=admin, product=product, key="size", label="Size", type="number")
    epic = Epic.objects.create(product=product, title="Épique ✓")
    client = api_as(admin)
    body = {
        "product": product.id,
        "title": "  Zoë’s 🚀 story  ",
        "as_a": "ユーザー",
        "i_want": "ça",
        "so_that": "naïve",
        "description": "**md**",
        "points": 5,
        "epic_id": epic.id,
        "assignee_id": admin.id,
        "labels": ["ux", "ux", "données"],
        "score_inputs": {"reach": 1000, "impact": 2, "confidence": 80, "effort": 3},
        "moscow": "must",
        "custom_values": {"team": "Équipe", "owner": admin.id, "size": 2.5},
        "acceptance_criteria": ["Première", "Second ✓"],
    }
    created = client.post("/api/v1/stories/", body, format="json")
    assert created.status_code == 201, created.content
    read = client.get(f"/api/v1/stories/{created.json()['id']}/")
    assert created.content == read.content
    assert [c["text"] for c in created.json()["criteria"]] == ["Première", "Second ✓"]
    assert created.json()["score"] is not None and created.json()["epic_title"] == "Épique ✓"

    bare = client.post("/api/v1/stories/", {"product": product.id, "title": "Bare"}, format="json")
    assert bare.status_code == 201
    assert bare.content == client.get(f"/api/v1/stories/{bare.json()['id']}/").content


def test_move_answers_the_row_the_list_shows(api_as, product, admin):
    first, _, last = make_stories(product, 3, actor=admin)
    client = api_as(admin)
    moved = client.post(f"/api/v1/stories/{last.id}/move/", {"before": first.id}, format="json")
    assert moved.status_code == 200
    rows = client.get(f"/api/v1/stories/?product={product.id}").json()["results"]
    assert rows[0] == moved.json()  # first now, with the rank and update time it was written with


def test_scoring_model_read_with_the_product_needs_no_query(product, admin, django_assert_num_queries):
    from backlog.selectors import scoring_model_of
    from roadmaps.models import Product

    bare = Product.objects.select_related("scoring_model").get(pk=product.pk)
    with django_assert_num_queries(0):
        assert scoring_model_of(bare).pk is None  # none saved: the default, known without a query
        assert scoring_model_of(bare).pk is None
    services.scoring_model_update(actor=admin, product=product, framework="wsjf")
    saved = Product.objects.select_related("scoring_model").get(pk=product.pk)
    with django_assert_num_queries(0):
        assert scoring_model_of(saved).framework == "wsjf"
    plain = Product.objects.get(pk=product.pk)
    with django_assert_num_queries(1):
        assert scoring_model_of(plain).framework == "wsjf"


def test_bad_filters_answer_400_with_field_errors_every_time(api_as, product, admin):
    client = api_as(admin)
    for _ in range(2):  # the second request reuses StoryFilter's form class
        response = client.get(f"/api/v1/stories/?product={product.id}&moscow=bogus&score_min=x")
        assert response.status_code == 400
        assert set(response.json()["errors"]) == {"moscow", "score_min"}
    assert client.get(f"/api/v1/stories/?product={product.id}&moscow=must").status_code == 200


@pytest.mark.parametrize("ordering", ["", "-score", "title"])
def test_plain_product_lists_equal_the_filterset_path(api_as, product, admin, foreign_product, ordering):
    """`?product=<id>` skips django-filter's form (StoryViewSet.filter_queryset); an empty `q`
    sends the same request through StoryFilter. Same pages, same rows, same cursors."""
    make_stories(product, 7, actor=admin)
    for i in (2, 5):
        Story.objects.filter(product=product, title=f"Story {i}").update(score=Decimal(i))
    client = api_as(admin)

    def pages(extra):
        out, url = [], f"/api/v1/stories/?product={product.id}&page_size=3&ordering={ordering}{extra}"
        while url:
            body = client.get(url).json()
            out.append([r["id"] for r in body["results"]])
            url = body["next"]
        return out

    assert pages("") == pages("&q=") and sum(map(len, pages(""))) == 7
    assert client.get(f"/api/v1/stories/?product={foreign_product.id}").json()["results"] == []
    assert client.get("/api/v1/stories/?product=abc").status_code == 400


def test_member_choices_name_people_as_the_models_do(django_assert_num_queries):
    """The backlog and story pages print people from (id, name) rows (issue 23): the same names, in
    the same order, as the User models members_of reads, for a named member and one known only by
    e-mail; one query however many members."""
    from backlog import selectors
    from pmhub.models import Membership, Role, User, Workspace

    ws = Workspace.objects.create(name="Acme", slug="acme-members")
    for email, name in [("zoe@acme.test", "Zoë <b>"), ("al@acme.test", ""), ("bo@acme.test", "Bo")]:
        Membership.objects.create(user=User.objects.create(email=email, name=name), workspace=ws, role=Role.EDITOR)
    with django_assert_num_queries(1):
        rows = selectors.member_choices(ws.id)
    assert rows == [(u.id, str(u)) for u in selectors.members_of(ws.id)]
    assert [label for _, label in rows] == ["al", "Bo", "Zoë <b>"]


def test_detail_annotations_compiled_once_are_the_orms_sql(product, admin):
    """The retrieve query's criteria and who-asked subqueries are compiled once per process
    (decision 2021): the same SQL and parameters as the ORM's, and the same values read."""
    from django.db import connection

    from backlog.api.views import story_detail_annotations, story_detail_annotations_compiled

    if connection.vendor != "postgresql":
        pytest.skip("compiled on PostgreSQL only")
    compiled = story_detail_annotations_compiled()
    assert compiled is story_detail_annotations_compiled()  # once
    orm = Story.objects.annotate(**story_detail_annotations()).values(*compiled)
    raw = Story.objects.annotate(**compiled).values(*compiled)
    orm_sql, orm_params = orm.query.sql_with_params()
    raw_sql, raw_params = raw.query.sql_with_params()
    assert orm_params == raw_params
    for expression in compiled.values():
        assert expression.sql in orm_sql
    assert raw_sql.replace("(", "").replace(")", "") == orm_sql.replace("(", "").replace(")", "")
    story = make_stories(product, 1, actor=admin)[0]
    services.criterion_add(actor=admin, story=story, text="Première ✓")
    services.criterion_add(actor=admin, story=story, text="Second")
    read = list(raw.filter(pk=story.pk))
    assert read == list(orm.filter(pk=story.pk))
    assert [c["text"] for c in read[0]["_criteria"]] == ["Première ✓", "Second"]


def test_story_serializers_bind_their_own_copies_of_fields_built_once(product, admin):
    """FieldsBuiltOnce (decision 2022): the fields are built once per class, and every serializer
    binds copies of its own (its parent, the nested criteria serializer included)."""
    from backlog.api.serializers import StoryDetailSerializer

    story = make_stories(product, 1, actor=admin)[0]
    first, second = StoryDetailSerializer(story), StoryDetailSerializer(story)
    for name in ("title", "score", "created_at", "criteria", "score_explanation"):
        assert first.fields[name] is not second.fields[name]
        assert first.fields[name].parent is first and second.fields[name].parent is second
    assert first.fields["criteria"].child is not second.fields["criteria"].child
    assert first.fields["title"].source == "title" and first.fields["epic_title"].source_attrs == ["epic", "title"]
    assert first.data == second.data
    assert list(StoryDetailSerializer.__dict__["_fields_built"]) == list(first.fields)


@pytest.mark.parametrize("ordering", ["", "-score", "title", "-created_at", "-points", "points"])
def test_first_pages_from_compiled_sql_answer_what_the_orm_answers(api_as, product, admin, foreign_product,
                                                                   outsider, ordering, monkeypatch):
    """A plain product list's first page runs SQL compiled once per shape (decision 2024): the
    same response, bytes and ETag, as the list built and compiled for the request, for a token
    (one workspace) and a session member of two workspaces; a product outside them answers none."""
    from rest_framework.test import APIClient

    from backlog.api.views import StoryViewSet
    from pmhub.models import Membership, Role

    make_stories(product, 7, actor=admin)
    make_stories(foreign_product, 3, actor=outsider)
    for i in (2, 5):
        Story.objects.filter(product=product, title=f"Story {i}").update(score=Decimal(i))
    Membership.objects.create(user=admin, workspace=foreign_product.workspace, role=Role.VIEWER)
    session = APIClient()
    session.force_authenticate(type(admin).objects.get(pk=admin.pk))  # memberships read afresh
    clients = {"token": api_as(admin), "session": session}
    urls = [f"/api/v1/stories/?product={product.id}&ordering={ordering}",
            f"/api/v1/stories/?product={product.id}&ordering={ordering}&page_size=3",
            f"/api/v1/stories/?product={foreign_product.id}&page_size=2"]

    def answers():
        out = []
        for client in clients.values():
            for url in urls:
                response = client.get(url)
                out.append((response.status_code, response.content, response["ETag"]))
        return out

    fast = answers()
    fast_again = answers()  # compiled by now
    monkeypatch.setattr(StoryViewSet, "_first_page", lambda self: None)
    built = answers()
    assert fast == fast_again == built
    bodies = [json.loads(content) for _, content, _ in built]
    assert [len(b["results"]) for b in bodies] == [7, 3, 0, 7, 3, 2]  # the session also sees Globex
    assert bodies[1]["next"] and bodies[1]["previous"] is None


def test_first_page_query_refuses_what_it_was_not_compiled_for(product, admin):
    from django.db.models import BigIntegerField, Value

    from pmhub.api.rows import CompiledRows, FirstPage
    from pmhub.ordering import Orderings

    rows = ValuesRows(StorySerializer)
    make_stories(product, 4, actor=admin)

    def build(ids):
        return rows.values(Story.objects.filter(product_id=ids[0])).order_by("rank")[:3]

    compiled = CompiledRows(build, 1)
    page = FirstPage(compiled, compiled.parameters([product.id]), ("rank",), 3)
    assert [r.title for r in page.order_by("rank")[0:3]] == ["Story 1", "Story 2", "Story 3"]
    with pytest.raises(ValueError):
        page.order_by("-rank")
    with pytest.raises(ValueError):
        page[3:6]
    with pytest.raises(ValueError, match="not a parameter"):
        CompiledRows(lambda ids: rows.values(Story.objects.filter(product_id=product.id))[:3], 1)
    stand_in = CompiledRows.STAND_INS[0]
    with pytest.raises(ValueError, match="equals a stand-in"):  # a constant that looks like an id
        CompiledRows(lambda ids: rows.values(Story.objects.filter(product_id=ids[0]).annotate(
            c=Value(stand_in, output_field=BigIntegerField())))[:3], 1)
    # A nullable descending ordering's sentinel is a large negative constant: kept as a constant.
    ordered, columns = Orderings({"-points": ("-points?", "rank")}, default="-points").annotated(
        Story.objects.all(), "-points")
    compiled = CompiledRows(lambda ids: rows.values(ordered.filter(product_id=ids[0])).order_by(*columns)[:3], 1)
    assert len(compiled.slots) == 1


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "Asia/Tokyo"])
@pytest.mark.parametrize("value", [
    datetime(2026, 3, 1, 23, 59, 58, 123456, tzinfo=UTC),
    datetime(2026, 3, 1, 23, 59, 58, tzinfo=UTC),  # no fraction printed
    datetime(2026, 3, 29, 1, 30, tzinfo=UTC),  # Paris changes its clocks that night
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2026, 3, 1, 23, 59, 58, 5, tzinfo=timezone.get_fixed_timezone(150)),  # not UTC: the zone's path
    "2026-03-01T23:59:58Z",
])
def test_date_times_print_as_the_serializer_prints_them(zone, value):
    """Decision 2301: in UTC a date-time PostgreSQL answered in UTC skips astimezone; every other
    zone or value takes the path it took before. The text is DRF's DateTimeField's either way."""
    from pmhub.api.rows import _converter

    with timezone.override(zone):
        field = serializers.DateTimeField()
        try:
            expected = field.to_representation(value)
        except serializers.ValidationError:  # year 9999 east of UTC: out of range, for both
            with pytest.raises(serializers.ValidationError):
                _converter(field)(value)
            return
        assert _converter(field)(value) == expected


def test_jsonb_texts_of_a_page_decoded_together_equal_one_by_one(product, admin):
    """Decision 2301: the jsonb texts of a chunk are decoded by one json.loads; the rows equal the
    serializer's (above) and each value equals its own json.loads."""
    from pmhub.api.rows import _decode_together, _json_once

    texts = ['[]', '{}', '{"a": [1, 2.5, "é\\"<>"], "b": null}', '"text"', '3', '[]', 'null', 'true']
    decode, other = _json_once(), _json_once()
    _decode_together([*texts, None, 7], [decode, other])
    for text in texts:
        assert decode.seen[text] == json.loads(text) and other.seen[text] is decode.seen[text]

    # Texts that do not make an array (only jsonb's texts are decoded together, each one value):
    # left to be decoded one by one, a bad one answered as JSONField answers it, as is.
    broken = _json_once()
    _decode_together(['[1', '2', 'nope'], [broken])
    assert broken.seen == {}
    assert [broken(t) for t in ['[1', '2']] == ['[1', 2]
