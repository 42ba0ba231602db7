"""Backlog API: stories, epics, comments, custom fields, saved views and the
per-product scoring model / settings. Validation and shape only; rules live in services."""

import json

import django_filters
from django.db import connection
from django.db.models import Count, OuterRef, Q
from django.db.models.functions import JSONObject
from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from pmhub import sqlbatch
from pmhub.access import memberships_of, workspace_ids_for
from pmhub.api.base import CRUD_MIXINS, CRUD_ROLES, ScopedViewSet, write_roles
from pmhub.api.ordering import OrderingFilter
from pmhub.api.pagination import CursorPagination
from pmhub.api.rows import CompiledRows, FirstPage, ValuesRows
from pmhub.api.throttling import cache_read_before
from pmhub.models import Role
from pmhub.prepared import Prepared
from pmhub.subscribers import subscribers_keys
from roadmaps.models import Product
from roadmaps.selectors import product_for_user

from .. import selectors, services
from ..demand import askers_annotations, askers_key
from ..models import AcceptanceCriterion, CustomField, Epic, SavedView, Story
from . import serializers as s


def _valid(serializer_class, data, partial=False):
    serializer = serializer_class(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _product_from(request, data, related: tuple[str, ...] = ()) -> Product:
    from django.core.exceptions import ValidationError

    if not data.get("product"):
        raise ValidationError({"product": "Name the product (its id)."})
    return product_for_user(user=request.user, product_id=data.pop("product"), related=related)


def _valid_for_product(request, serializer_class, related: tuple[str, ...] = ()) -> tuple[dict, Product]:
    """The request's data, validated, and the product it names (popped from the data), read with
    its `related` one-to-one rows."""
    data = _valid(serializer_class, request.data)
    return data, _product_from(request, data, related)


class StoryFilter(django_filters.FilterSet):
    product = django_filters.NumberFilter()
    epic = django_filters.NumberFilter()
    status = django_filters.CharFilter()
    assignee = django_filters.NumberFilter()
    moscow = django_filters.ChoiceFilter(choices=Story.MoSCoW.choices)
    kano = django_filters.ChoiceFilter(choices=Story.Kano.choices)
    score_min = django_filters.NumberFilter(field_name="score", lookup_expr="gte")
    score_max = django_filters.NumberFilter(field_name="score", lookup_expr="lte")
    q = django_filters.CharFilter(field_name="title", lookup_expr="icontains")
    label = django_filters.CharFilter(method="filter_label")

    class Meta:
        model = Story
        fields = ["product", "epic", "status", "assignee", "moscow", "kano"]

    def filter_label(self, queryset, name, value):
        return selectors._json_contains(queryset, "labels", value)

    def get_form_class(self):
        # django-filter builds a new form class per request; these filters are the same for every
        # request (no per-user choices), and a form copies its fields per instance: build it once.
        cls = type(self)
        if "_form_class" not in cls.__dict__:
            cls._form_class = super().get_form_class()
        return cls._form_class


def story_detail_annotations() -> dict | None:
    """What StoryDetailSerializer reads beside the story's columns, as annotations of the story's
    query (one round trip): its criteria (`_criteria`, JSON objects in their order) and what the
    askers providers need (backlog.demand). None off PostgreSQL, or when a provider cannot."""
    if connection.vendor != "postgresql":
        return None
    from django.contrib.postgres.expressions import ArraySubquery

    askers = askers_annotations(OuterRef("pk"))
    if askers is None:
        return None
    criteria = (AcceptanceCriterion.objects.filter(story_id=OuterRef("pk")).order_by("position", "id")
                .values(json=JSONObject(id="id", text="text", done="done", position="position")))
    return {"_criteria": ArraySubquery(criteria), **askers}


_COMPILED_DETAIL_ANNOTATIONS: dict = {}


def story_detail_annotations_compiled() -> dict | None:
    """`story_detail_annotations()` compiled to SQL once per process (per database and registry of
    askers providers): the retrieve queryset annotates these (pmhub.sqlbatch.compiled_annotations,
    decision 2021); the SQL is the ORM's (tests/backlog/test_story_rows.py compares it)."""
    if connection.vendor != "postgresql":
        return None
    key = (connection.alias, askers_key())
    if key not in _COMPILED_DETAIL_ANNOTATIONS:
        annotations = story_detail_annotations()
        _COMPILED_DETAIL_ANNOTATIONS[key] = (
            None if annotations is None else sqlbatch.compiled_annotations(Story, annotations, connection.alias))
    return _COMPILED_DETAIL_ANNOTATIONS[key]


def criteria_from_annotation(story) -> None:
    """story.criteria.all() answers the `_criteria` annotation's rows, as prefetch_related would."""
    if not hasattr(story, "_criteria"):
        return
    rows = [AcceptanceCriterion(story_id=story.pk, **values) for values in story._criteria]
    for row in rows:
        row._state.adding, row._state.db = False, story._state.db
    found = AcceptanceCriterion.objects.filter(story=story)
    found._result_cache, found._prefetch_done = rows, True
    story._prefetched_objects_cache = {"criteria": found}


def story_detail_queryset(*, retrieve: bool):
    """The stories of a detail route before the workspace scope: with what its answer or service
    reads in the same query. A get (`retrieve`) reads the scoring model (it explains the score) and,
    on PostgreSQL, the criteria and who asked (decision 1963) as compiled annotations (2021), but
    not the workspace row (the role check reads product.workspace_id; the budget of 1 query in
    tests/backlog/test_query_counts.py would show a lazy read). Other actions read the product."""
    if not retrieve:
        return selectors.stories_for_write()
    qs = Story.objects.filter(product__deleted_at__isnull=True).select_related("epic", "assignee")
    qs = qs.select_related("product__scoring_model")
    annotations = story_detail_annotations_compiled()
    return qs.annotate(**annotations) if annotations else qs.prefetch_related("criteria")


def story_row_of(story) -> dict:
    """StorySerializer's JSON of a story read with its epic and assignee, as the list prints its
    rows (STORY_ROWS: the same fields, converters and time zone; decision 2113)."""
    values = {}
    for column in STORY_ROWS.columns:
        value = story
        for part in column.split("__"):
            value = None if value is None else getattr(value, part)
        values[column] = value
    return STORY_ROWS([values])[0]


def story_detail_row_of(story) -> dict:
    """StoryDetailSerializer's JSON of a story just written (its criteria attached, its product
    read with the scoring model): the list's row (story_row_of) and the three fields the detail
    adds, each computed as the serializer computes it (decision 2203)."""
    row = story_row_of(story)
    criteria = story.criteria.all()
    row["criteria"] = s.CriterionSerializer(criteria, many=True).data if criteria else []
    row["score_explanation"] = services.explain(story, selectors.scoring_model_of(story.product)).as_dict()
    demand = selectors.demand_of(story)
    row["demand_summary"] = {**demand, "demand": str(demand["demand"])}
    return row


# get and move read their story by id from SQL compiled once (StoryViewSet.get_object, decision 2110),
# one query per (get or not, registry of askers providers).
PREPARED_DETAIL_ACTIONS = frozenset({"retrieve", "move"})
_DETAIL_QUERIES: dict = {}
STORY_ROWS = ValuesRows(s.StorySerializer)
# The first pages of plain product lists, compiled once per shape (StoryViewSet._first_page).
_FIRST_PAGES: dict = {}
# What the story services and the detail answer read of the product: in the product's query.
STORY_PRODUCT_RELATED = services.STORY_PRODUCT_RELATED
PLAIN_LIST_PARAMS = {"product", "page_size", "cursor", "ordering", "format"}
CF_PARAM = OpenApiParameter("cf_<key>", str, description="Filter by a custom field value (with `product`).")


# product id -> its workspace's id, learned from this process's creates: which subscriber summaries
# a create reads with the throttle (a guess: a wrong or missing one only means the service reads them).
_PRODUCT_WORKSPACES: dict[int, int] = {}


class StoryViewSet(ScopedViewSet, *CRUD_MIXINS):
    """Stories of your products. Updates name the `version` they read (stale: 409 with the
    current state). `?ordering=` one of the backlog page's sorts (rank by default; stories without
    a score or estimate last in both directions), cursor-paginated."""

    workspace_field = "product__workspace"
    serializer_class = s.StorySerializer
    write_serializer_class = s.StoryWriteSerializer
    pagination_class = CursorPagination
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    orderings = selectors.STORY_ORDERINGS
    filterset_class = StoryFilter
    action_roles = CRUD_ROLES | {
        "move": Role.EDITOR,
        "bulk": Role.EDITOR,
        "comments": Role.VIEWER,
        "criteria": Role.EDITOR,
    }

    def base_queryset(self):
        if self.action != "list":
            return story_detail_queryset(retrieve=self.action == "retrieve")
        # The list answers values() rows (STORY_ROWS, list() below): the joined epic title and
        # assignee e-mail come from the columns it names, not from select_related.
        qs = Story.objects.filter(product__deleted_at__isnull=True).select_related("epic", "assignee")
        product_id = self.request.query_params.get("product")
        cf_params = {k: v for k, v in self.request.query_params.items() if k.startswith("cf_")}
        if cf_params and product_id and product_id.isdigit():
            fields = list(CustomField.objects.filter(product_id=product_id, entity="story"))
            qs = selectors.stories_filtered(qs, params=cf_params, fields=fields)
        return qs

    def get_object(self):
        """The story of a get or a move by its id from SQL compiled once (decision 2110): the
        queryset `base_queryset` gives, without the workspace scope, which is checked on the row
        read (its product's workspace among the caller's, as product_for_user does): another
        workspace's story is a 404 as before, a role below the action's a 403. Every other action,
        a query string or an id that is not a plain number: DRF's path."""
        query = self._detail_query()
        if query is None:
            return super().get_object()
        found = query.objects(int(self.kwargs[self.lookup_url_kwarg or self.lookup_field]))
        story = found[0] if found else None
        if story is None or story.product.workspace_id not in workspace_ids_for(self.request.user):
            raise Http404("No Story matches the given query.")
        self.check_object_permissions(self.request, story)
        return story

    def _detail_query(self) -> Prepared | None:
        pk = str(self.kwargs.get(self.lookup_url_kwarg or self.lookup_field, ""))
        if (self.action not in PREPARED_DETAIL_ACTIONS or self.request.query_params or not pk.isascii()
                or not pk.isdigit() or len(pk) >= 19 or getattr(self, "swagger_fake_view", False)):
            return None
        retrieve = self.action == "retrieve"
        if retrieve and story_detail_annotations_compiled() is None:
            return None  # off PostgreSQL the criteria are prefetched: DRF's path
        key = (retrieve, askers_key())
        query = _DETAIL_QUERIES.get(key)
        if query is None:
            query = _DETAIL_QUERIES[key] = Prepared(
                Story, lambda pk, *_: story_detail_queryset(retrieve=retrieve).filter(pk=pk))
        return query

    def retrieve(self, request, *args, **kwargs):
        story = self.get_object()
        criteria_from_annotation(story)
        return Response(self.get_serializer(story).data)

    def get_serializer_class(self):
        if self.action == "retrieve":
            return s.StoryDetailSerializer
        return super().get_serializer_class()

    def _read(self, story, code=status.HTTP_200_OK):
        story = (
            Story.objects.select_related("epic", "assignee", "product").prefetch_related("criteria").get(pk=story.pk)
        )
        return Response(s.StoryDetailSerializer(story, context={"request": self.request}).data, status=code)

    def filter_queryset(self, queryset):
        # The list as clients page it (`?product=<id>`, a page size, a cursor, an ordering) needs none
        # of django-filter's per-request form (it deep-copies every filter and form field): the one
        # filter is `product`, a plain id, as StoryFilter would apply it. Anything else goes through
        # StoryFilter (validation, 400 with field errors).
        params = self.request.query_params
        if self.detail and not params:
            # One story by its id (get, move, update, ...), no query string: every filter is empty
            # (StoryFilter would not filter) and the order does not matter (get() drops it).
            return queryset
        product = params.get("product", "")
        if self.action == "list" and set(params) <= PLAIN_LIST_PARAMS and product.isdigit() and len(product) < 19:
            return OrderingFilter().filter_queryset(self.request, queryset.filter(product=int(product)), self)
        return super().filter_queryset(queryset)

    @extend_schema(parameters=[CF_PARAM])
    def list(self, request, *args, **kwargs):
        # StorySerializer's JSON from values() rows, without model instances (pmhub/api/rows.py);
        # the serializer remains the schema. tests/backlog/test_story_rows.py compares the two.
        queryset = self._first_page()
        if queryset is None:
            queryset = STORY_ROWS.values(self.filter_queryset(self.get_queryset()))
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(STORY_ROWS(page))

    def _first_page(self):
        """The first page of a plain product list (`?product=<id>`, a page size, an ordering, no
        cursor) from its SQL compiled once per shape (decision 2024): the ordering, the page size
        and the number of the caller's workspaces. The query is built by the same methods as any
        list's, with stand-in ids for the product and the workspaces, compiled, and run with this
        request's ids in their places. None for every other list (built and compiled as usual)."""
        request = self.request
        params = request.query_params
        product = params.get("product", "")
        if (connection.vendor != "postgresql" or "cursor" in params or not set(params) <= PLAIN_LIST_PARAMS
                or not product.isdigit() or len(product) >= 19):
            return None
        workspace_ids = workspace_ids_for(request.user)
        if not workspace_ids:
            return None
        ordering_filter = OrderingFilter()
        name = ordering_filter.ordering_name(request, self)  # an unknown one: 400, as filter_queryset says
        ordering = self.orderings.columns(name)
        limit = self.paginator.get_page_size(request) + 1
        key = (connection.alias, name, limit, len(workspace_ids))
        compiled = _FIRST_PAGES.get(key)
        if compiled is None:
            def build(ids):  # ids: the product's, then the workspaces'
                queryset = self.scoped(self.base_queryset(), ids[1:]).filter(product=ids[0])
                queryset = STORY_ROWS.values(ordering_filter.filter_queryset(request, queryset, self))
                return queryset.order_by(*ordering)[:limit]

            compiled = _FIRST_PAGES[key] = CompiledRows(build, 1 + len(workspace_ids))
        return FirstPage(compiled, compiled.parameters([int(product), *workspace_ids]), ordering, limit)

    def cache_reads_before(self, request):
        """A create's cache reads, made with the throttle's (one Redis round trip fewer; decision
        2356): the product's custom fields and, once this process has seen a create in the
        product, its workspace's subscriber summaries. The product id is peeked from a small JSON
        body; anything else reads nothing here (the service reads what it needs, as before)."""
        if self.action != "create" or connection.vendor != "postgresql":
            return []
        http_request = request._request
        if http_request.content_type != "application/json":
            return []
        try:
            if not 0 < int(http_request.META.get("CONTENT_LENGTH") or 0) <= 8192:
                return []
            product_id = json.loads(http_request.body).get("product")
        except Exception:  # noqa: BLE001 - a header or body refused later, in its usual place
            return []
        if type(product_id) is not int or not 0 < product_id < 2**63:
            return []
        return subscribers_keys(_PRODUCT_WORKSPACES.get(product_id), also=(("customfields", product_id),))

    @extend_schema(request=s.StoryWriteSerializer, responses={201: s.StoryDetailSerializer})
    def create(self, request, *args, **kwargs):
        # The product comes with its workflow settings and scoring model (the service reads both), and
        # the answer is the story just written (its criteria attached by the service), not a re-read:
        # tests/backlog/test_story_rows.py checks it equals a GET of the new story.
        data = _valid(s.StoryWriteSerializer, request.data)
        editable = [ref.id for ref in memberships_of(request.user) if ref.role >= Role.EDITOR]
        if connection.vendor != "postgresql" or not editable or not data.get("product"):
            product = _product_from(request, data, STORY_PRODUCT_RELATED)
            data.pop("version", None)
            criteria = data.pop("acceptance_criteria", None)
            story = services.story_create(
                actor=request.user, product=product, title=data.pop("title", ""), criteria=criteria, **data
            )
        else:
            # The product is read in the create's first round trip, after its lock, and checked
            # there as product_for_user checks it (another workspace's: 404; decision 2201).
            product_id = data.pop("product")
            data.pop("version", None)
            criteria = data.pop("acceptance_criteria", None)
            user = request.user

            def allowed(product):
                if product is None or product.workspace_id not in workspace_ids_for(user):
                    raise Http404("No Product matches the given query.")

            story = services.story_create_by_product_id(
                actor=user, product_id=product_id, workspace_ids=editable, allowed=allowed,
                title=data.pop("title", ""), criteria=criteria, read_before=cache_read_before(request), **data)
            if len(_PRODUCT_WORKSPACES) >= 10_000:
                _PRODUCT_WORKSPACES.clear()
            _PRODUCT_WORKSPACES[product_id] = story.product.workspace_id
        # The service read back the columns the database normalises, as a GET reads them; the
        # answer is StoryDetailSerializer's JSON, printed as the list prints its rows (2203).
        return Response(story_detail_row_of(story), status=status.HTTP_201_CREATED)

    @extend_schema(request=s.StoryWriteSerializer, responses={200: s.StoryDetailSerializer})
    def update(self, request, *args, **kwargs):
        story = self.get_object()
        data = _valid(s.StoryWriteSerializer, request.data, partial=True)
        data.pop("version", None)
        version = self.expected_version(story)
        for key in ("product", "acceptance_criteria"):
            data.pop(key, None)
        services.story_update(actor=request.user, story=story, data=data, version=version)
        return self._read(story)

    def destroy(self, request, *args, **kwargs):
        services.story_delete(actor=request.user, story=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=s.StoryMoveSerializer, responses=s.StorySerializer)
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        """Move the story directly before or after another story of its backlog (one UPDATE)."""
        try:
            body = request.data
        except Exception:
            self.get_object()  # as before: the story's 404 or 403 comes before the body's error
            raise
        story = self._move_at_once(body)
        if story is None:
            story = self.get_object()
            data = _valid(s.StoryMoveSerializer, body)
            services.story_move(actor=request.user, story=story, before=data.get("before"), after=data.get("after"))
        return Response(story_row_of(story))

    def _move_at_once(self, body):
        """A valid move of a story by its plain id, on PostgreSQL: the story is read in the move's
        first round trip, after the product's lock, and checked there as get_object checks it
        (another workspace's story 404, a role below editor 403, nothing written; decision 2200).
        None for anything else (an invalid body, a query string...): get_object, then the body's
        400, then the service, as before."""
        if connection.vendor != "postgresql" or self._detail_query() is None:
            return None
        serializer = s.StoryMoveSerializer(data=body)
        if not serializer.is_valid():
            return None
        before, after = serializer.validated_data.get("before"), serializer.validated_data.get("after")
        story_id = int(self.kwargs[self.lookup_url_kwarg or self.lookup_field])
        if (before is None) == (after is None) or story_id in (before, after):
            return None
        user = self.request.user
        editable = [ref.id for ref in memberships_of(user) if ref.role >= Role.EDITOR]
        if not editable:
            return None

        def allowed(story):
            if story is None or story.product.workspace_id not in workspace_ids_for(user):
                raise Http404("No Story matches the given query.")
            self.check_object_permissions(self.request, story)

        return services.story_move_by_id(actor=user, story_id=story_id, before=before, after=after,
                                         workspace_ids=editable, allowed=allowed)

    @extend_schema(request=s.StoryBulkSerializer, responses=s.BulkResultSerializer)
    @action(detail=False, methods=["post"])
    def bulk(self, request):
        """Bulk edit status, epic and labels of a selection (ids must all be in the product)."""
        data, product = _valid_for_product(request, s.StoryBulkSerializer)
        kwargs = {
            "status": data.get("status") or None,
            "add_labels": data.get("add_labels"),
            "remove_labels": data.get("remove_labels"),
        }
        if "epic_id" in data:
            kwargs["epic_id"] = data["epic_id"]
        updated = services.stories_bulk_update(actor=request.user, product=product, ids=data["ids"], **kwargs)
        return Response({"updated": updated})

    @extend_schema(methods=["get"], responses=s.CommentSerializer(many=True))
    @extend_schema(methods=["post"], request=s.CommentWriteSerializer, responses={201: s.CommentSerializer})
    @action(detail=True, methods=["get", "post"], pagination_class=None)  # every comment, unpaginated
    def comments(self, request, pk=None):
        """Comments of a story; `@alice@example.com` or `@alice` notifies that member."""
        story = self.get_object()
        if request.method == "POST":
            data = _valid(s.CommentWriteSerializer, request.data)
            comment = services.comment_create(actor=request.user, story=story, body=data["body"])
            return Response(s.CommentSerializer(comment).data, status=status.HTTP_201_CREATED)
        comments = story.comments.select_related("author")
        return Response(s.CommentSerializer(comments, many=True).data)

    @extend_schema(request=s.CriterionWriteSerializer, responses={201: s.CriterionSerializer})
    @action(detail=True, methods=["post"])
    def criteria(self, request, pk=None):
        """Add an acceptance criterion."""
        story = self.get_object()
        data = _valid(s.CriterionWriteSerializer, request.data)
        criterion = services.criterion_add(actor=request.user, story=story, text=data["text"])
        return Response(s.CriterionSerializer(criterion).data, status=status.HTTP_201_CREATED)


class EpicFilter(django_filters.FilterSet):
    product = django_filters.NumberFilter()
    status = django_filters.CharFilter()
    initiative = django_filters.NumberFilter()
    release = django_filters.NumberFilter()

    class Meta:
        model = Epic
        fields = ["product", "status", "initiative", "release"]


class EpicViewSet(ScopedViewSet, *CRUD_MIXINS):
    """Epics (optionally under a roadmap initiative), with story counts."""

    workspace_field = "product__workspace"
    serializer_class = s.EpicSerializer
    write_serializer_class = s.EpicWriteSerializer
    filterset_class = EpicFilter
    action_roles = CRUD_ROLES

    def base_queryset(self):
        return (
            Epic.objects.filter(product__deleted_at__isnull=True)
            .annotate(story_count=Count("stories", distinct=True))
            .order_by("id")
            .after_fetch(selectors.attach_epic_progress)
        )

    def _read(self, epic, code=status.HTTP_200_OK):
        return Response(s.EpicSerializer(self.base_queryset().get(pk=epic.pk)).data, status=code)

    @extend_schema(request=s.EpicWriteSerializer, responses={201: s.EpicSerializer})
    def create(self, request, *args, **kwargs):
        data, product = _valid_for_product(request, s.EpicWriteSerializer)
        data.pop("version", None)
        epic = services.epic_create(actor=request.user, product=product, title=data.pop("title", ""), **data)
        return self._read(epic, status.HTTP_201_CREATED)

    @extend_schema(request=s.EpicWriteSerializer, responses=s.EpicSerializer)
    def update(self, request, *args, **kwargs):
        epic = self.get_object()
        data = _valid(s.EpicWriteSerializer, request.data, partial=True)
        data.pop("product", None)
        data.pop("version", None)
        services.epic_update(actor=request.user, epic=epic, data=data, version=self.expected_version(epic))
        return self._read(epic)

    def destroy(self, request, *args, **kwargs):
        services.epic_delete(actor=request.user, epic=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class CustomFieldViewSet(ScopedViewSet, *CRUD_MIXINS):
    """Custom fields of stories and epics (admins define them)."""

    workspace_field = "product__workspace"
    serializer_class = s.CustomFieldSerializer
    write_serializer_class = s.CustomFieldWriteSerializer
    filterset_fields = ["product", "entity"]
    action_roles = write_roles(Role.ADMIN)
    queryset = CustomField.objects.all()

    @extend_schema(request=s.CustomFieldWriteSerializer, responses={201: s.CustomFieldSerializer})
    def create(self, request, *args, **kwargs):
        data, product = _valid_for_product(request, s.CustomFieldWriteSerializer)
        field = services.custom_field_create(
            actor=request.user,
            product=product,
            key=data.get("key", ""),
            label=data.get("label", ""),
            type=data.get("type", ""),
            entity=data.get("entity", "story"),
            options=data.get("options"),
            required=data.get("required", False),
        )
        return Response(s.CustomFieldSerializer(field).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.CustomFieldWriteSerializer, responses=s.CustomFieldSerializer)
    def update(self, request, *args, **kwargs):
        field = self.get_object()
        data = _valid(s.CustomFieldWriteSerializer, request.data, partial=True)
        services.custom_field_update(
            actor=request.user,
            field=field,
            label=data.get("label"),
            options=data.get("options"),
            required=data.get("required"),
            version=self.expected_version(field),
        )
        return Response(s.CustomFieldSerializer(field).data)

    def destroy(self, request, *args, **kwargs):
        services.custom_field_delete(actor=request.user, field=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class SavedViewViewSet(ScopedViewSet, *CRUD_MIXINS):
    """Saved backlog views: yours and those shared with the workspace."""

    workspace_field = "product__workspace"
    serializer_class = s.SavedViewSerializer
    write_serializer_class = s.SavedViewWriteSerializer
    filterset_fields = ["product", "shared"]
    # Viewers may keep personal views; the service checks ownership and the role for sharing.
    action_roles = write_roles(Role.VIEWER)

    queryset = SavedView.objects.all()

    def base_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SavedView.objects.none()
        return SavedView.objects.filter(Q(owner=self.request.user) | Q(shared=True))

    @extend_schema(request=s.SavedViewWriteSerializer, responses={201: s.SavedViewSerializer})
    def create(self, request, *args, **kwargs):
        data, product = _valid_for_product(request, s.SavedViewWriteSerializer)
        view = services.saved_view_create(
            actor=request.user,
            product=product,
            name=data.get("name", ""),
            config=data.get("config") or {},
            shared=data.get("shared", False),
        )
        return Response(s.SavedViewSerializer(view).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.SavedViewWriteSerializer, responses=s.SavedViewSerializer)
    def update(self, request, *args, **kwargs):
        view = self.get_object()
        data = _valid(s.SavedViewWriteSerializer, request.data, partial=True)
        services.saved_view_update(
            actor=request.user, view=view, name=data.get("name"), config=data.get("config"), shared=data.get("shared"),
            version=self.expected_version(view),
        )
        return Response(s.SavedViewSerializer(view).data)

    def destroy(self, request, *args, **kwargs):
        services.saved_view_delete(actor=request.user, view=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class BacklogProductViewSet(ScopedViewSet):
    """Per-product backlog configuration: scoring model (+ what-if) and workflow/segment weights."""

    workspace_field = "workspace"
    serializer_class = s.ScoringModelSerializer
    action_roles = {"scoring_model": Role.VIEWER, "what_if": Role.VIEWER, "backlog_settings": Role.VIEWER}
    queryset = Product.objects.filter(deleted_at__isnull=True)

    @extend_schema(methods=["get"], responses=s.ScoringModelSerializer)
    @extend_schema(methods=["put"], request=s.ScoringModelWriteSerializer, responses={202: s.JobRefSerializer})
    @action(detail=True, methods=["get", "put"], url_path="scoring-model")
    def scoring_model(self, request, pk=None):
        """The product's scoring model. PUT changes it and starts re-scoring (202 with a job id)."""
        product = self.get_object()
        if request.method == "PUT":
            data = _valid(s.ScoringModelWriteSerializer, request.data)
            model, job = services.scoring_model_update(
                actor=request.user, product=product, framework=data["framework"], criteria=data.get("criteria")
            )
            return Response(
                {"model": s.ScoringModelSerializer(model).data, "job_id": job.id}, status=status.HTTP_202_ACCEPTED
            )
        return Response(s.ScoringModelSerializer(selectors.scoring_model_of(product)).data)

    @extend_schema(request=s.ScoringModelWriteSerializer, responses=s.WhatIfSerializer)
    @action(detail=True, methods=["post"], url_path="what-if")
    def what_if(self, request, pk=None):
        """How the ranking would change under another model or weights. Writes nothing."""
        product = self.get_object()
        data = _valid(s.ScoringModelWriteSerializer, request.data)
        criteria = [dict(c) for c in data.get("criteria") or []]
        result = services.what_if(product=product, framework=data["framework"], criteria=criteria)
        return Response(s.WhatIfSerializer(result).data)

    @extend_schema(methods=["get"], responses=s.BacklogSettingsSerializer)
    @extend_schema(methods=["put"], request=s.BacklogSettingsWriteSerializer, responses=s.BacklogSettingsSerializer)
    @action(detail=True, methods=["get", "put"], url_path="settings")
    def backlog_settings(self, request, pk=None):
        """Workflow statuses (each with a category) and segment weights for feedback demand."""
        product = self.get_object()
        if request.method == "PUT":
            data = _valid(s.BacklogSettingsWriteSerializer, request.data)
            settings = services.settings_update(
                actor=request.user,
                product=product,
                workflow=data.get("workflow"),
                segment_weights=data.get("segment_weights"),
            )
            return Response(s.BacklogSettingsSerializer(settings).data)
        return Response(s.BacklogSettingsSerializer(selectors.settings_of(product)).data)
