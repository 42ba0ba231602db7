"""Reads of the roadmaps app, scoped to the user's workspaces."""

import operator
from collections import namedtuple
from datetime import date

from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    prefetch_related_objects,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404

from pmhub.access import workspace_ids_for
from pmhub.models import display_name_of
from pmhub.prepared import Prepared

from . import graph
from .models import (
    Capability,
    Competitor,
    Dependency,
    Initiative,
    KeyResult,
    Objective,
    Product,
    Release,
    RoadmapSnapshot,
    Segment,
    ShareLink,
)


def products_for_user(*, user) -> QuerySet[Product]:
    """Live (not soft-deleted) products of every workspace the user belongs to."""
    return Product.objects.alive().filter(workspace_id__in=workspace_ids_for(user))


_PRODUCT_QUERIES: dict[tuple[str, ...], Prepared] = {}


def product_query(related: tuple[str, ...]) -> Prepared:
    """The product of a product page by id with its workspace and `related`, compiled once per
    process (pmhub.prepared: the ORM's building cost more than the query; decision 2001)."""
    query = _PRODUCT_QUERIES.get(related)
    if query is None:
        query = _PRODUCT_QUERIES[related] = Prepared(
            Product, lambda pk, *_: Product.objects.alive().select_related("workspace", *related).filter(pk=pk))
    return query


def product_for_user(*, user, product_id: int, workspace_id: int | None = None,
                     related: tuple[str, ...] = ()) -> Product:
    """One product the user may see (404 otherwise), optionally within a given workspace, with
    its workspace and any other `related` one-to-one relations in the same query."""
    if not isinstance(product_id, int):  # a text id or a model (API input): the ORM's own path
        qs = products_for_user(user=user).select_related("workspace", *related)
        if workspace_id is not None:
            qs = qs.filter(workspace_id=workspace_id)
        return get_object_or_404(qs, pk=product_id)
    found = product_query(tuple(related)).objects(product_id)
    product = found[0] if found else None
    if (product is None or product.workspace_id not in workspace_ids_for(user)
            or (workspace_id is not None and product.workspace_id != workspace_id)):
        raise Http404("No Product matches the given query.")
    return product


def deleted_products(*, workspace) -> QuerySet[Product]:
    return Product.objects.filter(workspace=workspace, deleted_at__isnull=False).order_by("-deleted_at")


def initiatives_annotated(qs: QuerySet | None = None) -> QuerySet[Initiative]:
    """Initiatives with owner, release and objectives. Work progress reads stories, which this
    app may not import: the presentation layer attaches it with the backlog's selector
    (backlog.selectors.attach_initiative_progress, e.g. through `qs.after_fetch(...)`)."""
    qs = Initiative.objects.all() if qs is None else qs
    return qs.select_related("owner", "release").prefetch_related(
        Prefetch("objectives", queryset=Objective.objects.only("id", "title", "product_id")))


def releases_annotated(qs: QuerySet | None = None) -> QuerySet[Release]:
    """Releases; their scope and progress come from delivery.selectors.attach_release_progress."""
    return Release.objects.all() if qs is None else qs


def dependencies_annotated(qs: QuerySet | None = None) -> QuerySet[Dependency]:
    qs = Dependency.objects.all() if qs is None else qs
    conflict = ExpressionWrapper(
        Q(blocker__end_date__isnull=False, blocked__start_date__isnull=False,
          blocker__end_date__gt=F("blocked__start_date")),
        output_field=BooleanField())
    return qs.select_related("blocker", "blocked").annotate(conflict=conflict)


# --- scoped querysets for the API ------------------------------------------------------------
def _scoped(model, user, path="product"):
    return model.objects.filter(**{f"{path}__workspace_id__in": workspace_ids_for(user),
                                   f"{path}__deleted_at__isnull": True})


def segments_for_user(*, user):
    return _scoped(Segment, user)


def competitors_for_user(*, user):
    return _scoped(Competitor, user).prefetch_related("ratings")


def capabilities_for_user(*, user):
    return _scoped(Capability, user)


def objectives_for_user(*, user):
    return _scoped(Objective, user).prefetch_related(
        Prefetch("key_results", queryset=KeyResult.objects.select_related("kpi", "owner")))


def key_results_for_user(*, user):
    return _scoped(KeyResult, user, "objective__product").select_related("kpi", "owner", "objective")


def initiatives_for_user(*, user):
    return initiatives_annotated(_scoped(Initiative, user))


def dependencies_for_user(*, user):
    return dependencies_annotated(_scoped(Dependency, user, "blocker__product"))


def releases_for_user(*, user):
    return releases_annotated(_scoped(Release, user))


def snapshots_for_user(*, user):
    return _scoped(RoadmapSnapshot, user)


def share_links_for_user(*, user):
    return _scoped(ShareLink, user)


# --- roadmap views ---------------------------------------------------------------------------
def initiatives_filtered(qs: QuerySet, params) -> QuerySet:
    """Filters shared by the pages and the API: objective, status, owner, label, horizon, release."""
    get = params.get
    if get("objective"):
        qs = qs.filter(objectives__id=_int(get("objective")))
    if get("status"):
        qs = qs.filter(status=get("status"))
    if get("owner"):
        qs = qs.filter(owner_id=_int(get("owner")))
    if get("label"):
        qs = qs.filter(labels__contains=f",{get('label').strip().lower()},")
    if get("horizon"):
        qs = qs.filter(horizon=get("horizon"))
    if get("release"):
        qs = qs.filter(release_id=_int(get("release")))
    return qs


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


# What the timeline page draws of an initiative (roadmaps/_timeline.html, rows.timeline_lanes,
# graph.schedule_state): the other columns (description, labels, timestamps, ...) and the release
# are left out of the page's read.
DRAWN_FIELDS = ("id", "product_id", "title", "status", "horizon", "start_date", "end_date", "version",
                "confidence", "rank", "owner_id")
OWNER_FIELDS = ("owner__name", "owner__email")
_STATUS_LABELS = dict(Initiative.Status.choices)
_HORIZON_LABELS = dict(Initiative.Horizon.choices)


class DrawnInitiative:
    """An initiative as the timeline reads it (roadmap_for_product(links_only=True)): its
    DRAWN_FIELDS and `objective_title` as attributes, `pk`, `owner` (its owner's display name; None
    without an owner, or when the owners were not read) and the two display methods the timeline
    calls. A plain object, not a model: building 300 Initiative models (field descriptors, signals)
    was the largest part of the timeline's read after its queries (decision 2013). The page sets
    its figures on it as on a model (`work`, `risk_flags`, `schedule`, `bar`, ...)."""

    def __init__(self, row: dict):
        name, email = row.pop("owner__name", None), row.pop("owner__email", None)
        self.__dict__.update(row)
        self.pk = row["id"]
        self.owner = display_name_of(name, email) if email is not None else None

    @classmethod
    def of_row(cls, row: tuple, owners: bool) -> "DrawnInitiative":
        """From a row of _drawn_initiatives (DRAWN_FIELDS, the owner's name and e-mail with `owners`,
        then objective_title) without a dict per row: 300 of them a timeline."""
        self = cls.__new__(cls)
        (self.id, self.product_id, self.title, self.status, self.horizon, self.start_date, self.end_date,
         self.version, self.confidence, self.rank, self.owner_id) = row[:11]
        self.pk = self.id
        self.objective_title = row[-1]
        self.owner = display_name_of(row[11], row[12]) if owners and row[12] is not None else None
        return self

    def get_status_display(self) -> str:
        return str(_STATUS_LABELS.get(self.status, self.status))

    def get_horizon_display(self) -> str:
        return str(_HORIZON_LABELS.get(self.horizon, self.horizon))


# The parameters initiatives_filtered reads: without any of them a roadmap's read has one shape.
FILTER_KEYS = ("objective", "status", "owner", "label", "horizon", "release")
_LINK_FIELDS = ("id", "blocker_id", "blocked_id", "conflict")
DrawnLink = namedtuple("DrawnLink", _LINK_FIELDS)


def _drawn_initiatives(product_id, owners: bool):
    first = (Objective.objects.filter(initiatives=OuterRef("pk")).order_by(*Objective._meta.ordering)
             .values("title")[:1])
    return (Initiative.objects.filter(product_id=product_id)
            .annotate(objective_title=Coalesce(Subquery(first), Value("")))
            .values_list(*DRAWN_FIELDS, *(OWNER_FIELDS if owners else ()), "objective_title")
            .order_by("start_date", "rank", "id"))


# roadmap_for_product(links_only=True) of an unfiltered roadmap, its three queries compiled once per
# process (pmhub.prepared): building and compiling them cost the timeline page more than running
# them (decision 2130). The ORM's querysets stay their one description.
_DRAWN = {owners: Prepared(Initiative, lambda product_id, *_, owners=owners: _drawn_initiatives(product_id, owners))
          for owners in (False, True)}
_LINKS = Prepared(Dependency, lambda product_id, *_: dependencies_annotated(
    Dependency.objects.filter(blocker__product_id=product_id)).select_related(None).values_list(*_LINK_FIELDS))
_RELEASES = Prepared(Release, lambda product_id, *_: Release.objects.filter(product_id=product_id)
                     .order_by("release_date", "id"))


def _drawn_roadmap(product_id: int, *, owners: bool) -> dict:
    return {"initiatives": [DrawnInitiative.of_row(row, owners) for row in _DRAWN[owners].rows(product_id)],
            "dependencies": [DrawnLink(*row) for row in _LINKS.rows(product_id)],
            "releases": _RELEASES.objects(product_id)}


_OBJECTIVE_CHOICES = Prepared(Objective, lambda product_id, *_: Objective.objects.filter(product_id=product_id)
                              .values_list("id", "title"))


_PLACES = Prepared(Initiative, lambda product_id, *_: Initiative.objects.filter(product_id=product_id)
                   .order_by("rank", "id").values_list("id", "horizon", "rank"))


def initiative_places(*, product, params=None) -> list[tuple[int, str, float]]:
    """(id, horizon, rank) of the product's initiatives that `params` filter in, in board order (rank,
    id): where each card of the Now / Next / Later board stands. Unfiltered: one query compiled once."""
    if not any((params or {}).get(key) for key in FILTER_KEYS):
        return _PLACES.rows(product.pk)
    qs = initiatives_filtered(product.initiatives.all(), params)
    if params.get("objective"):
        qs = qs.distinct()
    return list(qs.order_by("rank", "id").values_list("id", "horizon", "rank"))


# What a card of the Now / Next / Later board prints (rows.board_cards) and where it stands (horizon,
# rank): one row per initiative of the product, its owner's name and e-mail joined (decision 2211).
CARD_ROW = ("id", "title", "status", "horizon", "start_date", "end_date", "version", "confidence", "rank",
            "labels", "owner_id", "owner__name", "owner__email")


class CardInitiative:
    """An initiative as the board reads it (board_initiatives): the CARD_ROW columns as attributes,
    `pk`, `owner` (the owner's display name, None without one) and `label_list` as the model has
    them. A plain object: the page sets `work`, `risk_flags` and `statement_status` on it."""

    def __init__(self, row: tuple):
        (self.id, self.title, self.status, self.horizon, self.start_date, self.end_date, self.version,
         self.confidence, self.rank, self.labels, self.owner_id, name, email) = row
        self.pk = self.id
        self.owner = display_name_of(name, email) if email is not None else None

    @property
    def label_list(self) -> list[str]:
        return [x for x in self.labels.split(",") if x]


_CARDS = Prepared(Initiative, lambda product_id, *_: Initiative.objects.filter(product_id=product_id)
                  .order_by("rank", "id").values_list(*CARD_ROW))


# A card row's id, horizon and rank: where the card stands (initiative_places' columns).
CARD_ID = CARD_ROW.index("id")
card_place = operator.itemgetter(CARD_ID, CARD_ROW.index("horizon"), CARD_ROW.index("rank"))


def board_card_rows(*, product) -> list[tuple]:
    """Every initiative of the product as a CARD_ROW tuple, in board order (rank, id): one query
    compiled once. The board makes a CardInitiative of the 80 it shows, not of all 300 (each one's
    owner name cost as much as the rest of the row)."""
    return _CARDS.rows(product.pk)


def board_initiatives(*, product) -> list[CardInitiative]:
    """Every initiative of the product as a card, in board order (rank, id): one query compiled
    once. Its (id, horizon, rank) are initiative_places of the unfiltered board."""
    return [CardInitiative(row) for row in board_card_rows(product=product)]


def objective_choices(*, product_id: int) -> list[tuple[int, str]]:
    """(id, title) of a product's objectives in their order: a filter's options (one query compiled once)."""
    return _OBJECTIVE_CHOICES.rows(product_id)


def roadmap_for_product(*, product: Product, params=None, links_only: bool = False, owners: bool = True) -> dict:
    """Everything a timeline needs, in a fixed number of queries whatever the roadmap size:
    initiatives (with progress and objectives), dependencies (with conflict flags), releases.
    `links_only` (the timeline page, which draws bars and lines): dependencies are rows of their
    id, two initiative ids and the conflict flag, not models (200 links were 600 models at first),
    and initiatives are DrawnInitiative rows of the DRAWN_FIELDS and, instead of their objectives
    as prefetched models,
    `objective_title`: the title of their first objective (Objective's ordering), "" for none
    (a subquery of the initiatives' query, against 300 prefetched models and a related manager
    per initiative); their owners only with `owners` (swimlanes by owner)."""
    if links_only and not any((params or {}).get(key) for key in FILTER_KEYS):
        return _drawn_roadmap(product.pk, owners=owners)
    initiatives = initiatives_filtered(initiatives_annotated(product.initiatives.all()), params or {})
    if params and params.get("objective"):
        initiatives = initiatives.distinct()
    if links_only:
        first = (Objective.objects.filter(initiatives=OuterRef("pk")).order_by(*Objective._meta.ordering)
                 .values("title")[:1])
        rows = (initiatives.select_related(None).prefetch_related(None)
                .values(*DRAWN_FIELDS, *(OWNER_FIELDS if owners else ()),
                        objective_title=Coalesce(Subquery(first), Value("")))
                .order_by("start_date", "rank", "id"))
        initiatives = [DrawnInitiative(row) for row in rows]
    else:
        initiatives = list(initiatives.order_by("start_date", "rank", "id"))
    dependencies = dependencies_annotated(Dependency.objects.filter(blocker__product=product))
    if links_only:
        dependencies = dependencies.select_related(None).values_list("id", "blocker_id", "blocked_id", "conflict",
                                                                      named=True)
    dependencies = list(dependencies)
    releases = list(product.releases.order_by("release_date", "id"))
    return {"initiatives": initiatives, "dependencies": dependencies, "releases": releases}


def initiative_schedule(*, initiatives, dependencies=None, today: date) -> dict[int, str | None]:
    """{initiative id: graph.schedule_state} of the given initiatives: the one on-track /
    at-risk / late rule of every page, report and share page. `dependencies` are the
    dependencies_annotated rows touching them (read in one query when not given)."""
    initiatives = list(initiatives)
    ids = {i.id for i in initiatives}
    if dependencies is None:
        dependencies = dependencies_annotated(Dependency.objects.filter(Q(blocker_id__in=ids) | Q(blocked_id__in=ids)))
    conflicted = set()
    for d in dependencies:
        if d.conflict:
            conflicted.update({d.blocker_id, d.blocked_id})
    return {i.id: graph.schedule_state(status=i.status, end_date=i.end_date, conflicted=i.id in conflicted,
                                       today=today) for i in initiatives}


def objectives_with_progress(qs: QuerySet | list) -> list[Objective]:
    """Objectives with their key results (and each one's KPI and owner) prefetched, and
    `progress` set on each: the mean of its key results' progress (0..1), None without key
    results. Three queries whatever the number of objectives. `qs` is a queryset of objectives,
    or a list of objectives read already (objectives_of_products)."""
    prefetch = Prefetch("key_results", queryset=KeyResult.objects.select_related("kpi", "owner").order_by("id"))
    if isinstance(qs, QuerySet):
        objectives = list(qs.prefetch_related(prefetch))
    else:
        objectives = list(qs)
        prefetch_related_objects(objectives, prefetch)
    for objective in objectives:
        krs = list(objective.key_results.all())
        objective.progress = sum(kr.progress for kr in krs) / len(krs) if krs else None
    return objectives


# The first 50 objectives of some products in the objectives' order, compiled once per number of
# products (the dashboards' objectives: decision 2324).
_OBJECTIVES_OF_PRODUCTS = Prepared(Objective, lambda ids: Objective.objects.filter(product_id__in=ids)[:50])


def objectives_of_products(*, product_ids: list[int]) -> list[Objective]:
    """`Objective.objects.filter(product__in=product_ids)[:50]`, compiled once."""
    return _OBJECTIVES_OF_PRODUCTS.objects(list(product_ids)) if product_ids else []


def products_with_initiative_counts(*, workspace) -> list[Product]:
    """Products of a workspace with their initiative count (home page panel; the story progress
    is the backlog's, backlog.selectors.progress_for_products).

    A correlated subquery (an index lookup per product), not a join counted DISTINCT: that join
    multiplied 300 initiatives by 20,000 stories (2 s on the benchmark)."""
    return _PRODUCTS_WITH_COUNTS.objects(workspace.id)


def _products_with_initiative_counts(workspace_id):
    initiatives = (Initiative.objects.filter(product=OuterRef("pk")).order_by().annotate(_one=Value(1))
                   .values("_one").annotate(n=Count("id")).values("n")[:1])
    return Product.objects.alive().filter(workspace_id=workspace_id).annotate(
        initiative_count=Coalesce(Subquery(initiatives, output_field=IntegerField()), 0))


# Compiled once per process (pmhub.prepared, decision 2120): home and the product list read it on every view.
_PRODUCTS_WITH_COUNTS = Prepared(Product, _products_with_initiative_counts)


def product_of_workspace(workspace, product_id):
    """A live product of `workspace` by id, or None (no id, another workspace's, deleted)."""
    if product_id is None:
        return None
    return Product.objects.alive().filter(id=product_id, workspace=workspace).first()
