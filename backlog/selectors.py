"""Reads of the backlog app, scoped to the user's workspaces."""

import contextlib
import functools
import operator
from dataclasses import dataclass
from dataclasses import field as dc_field

from django.db import connection
from django.db.models import Count, F, Q, QuerySet, Sum, Value, Window
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Coalesce, RowNumber
from django.http import Http404
from django.shortcuts import get_object_or_404

from pmhub.access import workspace_ids_for
from pmhub.models import Membership, display_name_of
from pmhub.ordering import Orderings, nulls_last
from pmhub.prepared import Prepared

from .models import (
    CATEGORY_DONE,
    CATEGORY_EXCLUDED,
    AcceptanceCriterion,
    BacklogSettings,
    Comment,
    CustomField,
    Epic,
    SavedView,
    ScoringModel,
    Story,
    StoryTally,
    default_workflow,
)
from .progress import EMPTY, Progress, categories_of, statuses_in

# The backlog's orderings, for the page (`?sort=`) and the API (`?ordering=`) alike. `?` marks a
# figure a story may lack: stories without it come last in both directions (pmhub/ordering.py).
STORY_ORDERINGS = Orderings({
    "rank": ("rank", "id"),
    "-score": ("-score?", "rank"),
    "score": ("score?", "rank"),
    "title": ("title", "id"),
    "points": ("points?", "rank"),
    "-points": ("-points?", "rank"),
    "-created_at": ("-created_at", "-id"),
    "status": ("status", "rank"),
}, default="rank")
GROUPS = {"epic": "epic__title", "status": "status", "assignee": "assignee__email"}


def settings_of(product) -> BacklogSettings:
    """The product's backlog settings (unsaved defaults if never edited: no write on read). No
    query when the page fetched them with the product (BacklogBase.product_related)."""
    try:
        return product.backlog_settings
    except BacklogSettings.DoesNotExist:
        return BacklogSettings(product=product, workflow=default_workflow(), segment_weights={})


def scoring_model_of(product) -> ScoringModel:
    """The product's scoring model (an unsaved RICE default if it never saved one). No query when
    the product was read with it (`select_related("scoring_model")`, as the story API does)."""
    related = type(product).scoring_model.related
    cached = related.get_cached_value(product) if related.is_cached(product) else False
    # None: read with the product, none saved. An unsaved instance (a default built here) is not an answer.
    found = cached if cached is None or getattr(cached, "pk", None) else ScoringModel.objects.filter(
        product=product).first()
    if found is not None:
        return found
    default = ScoringModel(product=product, framework=ScoringModel.Framework.RICE, criteria=[])
    related.set_cached_value(product, None)  # building it cached it on the product: none is saved
    return default


def custom_fields_of(product, entity: str = "story") -> list[CustomField]:
    """The product's custom-field definitions of `entity`, in their order. From the cache while no
    definition of the product changed (pmhub.subscribers: a generation bumped by every save and
    delete, decision 1961): every story create and update reads them."""
    from pmhub.subscribers import subscribers_cached

    product_id = getattr(product, "pk", product)
    return [f for f in subscribers_cached("customfields", product_id, _custom_fields_load) if f.entity == entity]


def _custom_fields_load(product_id: int) -> list[CustomField]:
    return list(CustomField.objects.filter(product_id=product_id))


def member_ids_of(workspace_id: int) -> set[int]:
    return set(Membership.objects.filter(workspace_id=workspace_id).values_list("user_id", flat=True))


def members_of(workspace_id: int):
    return [
        m.user
        for m in Membership.objects.filter(workspace_id=workspace_id).select_related("user").order_by("user__email")
    ]


def member_choices(workspace_id: int) -> list[tuple[int, str]]:
    """The workspace's people as (user id, display name) in members_of's order: what an assignee
    select and the user columns print. Rows, not models: 200 members were 400 model instances on
    every backlog and story page (issue 23)."""
    return [(user_id, display_name_of(name, email)) for user_id, name, email in _MEMBER_ROWS.rows(workspace_id)]


# Compiled once per process (pmhub.prepared): every backlog, story, iteration and roadmap page reads it.
_MEMBER_ROWS = Prepared(Membership, lambda workspace_id, *_: Membership.objects.filter(workspace_id=workspace_id)
                        .order_by("user__email").values_list("user_id", "user__name", "user__email"))


def stories_for_user(*, user) -> QuerySet[Story]:
    return Story.objects.filter(product__workspace_id__in=workspace_ids_for(user), product__deleted_at__isnull=True)


def epics_for_user(*, user) -> QuerySet[Epic]:
    return Epic.objects.filter(product__workspace_id__in=workspace_ids_for(user), product__deleted_at__isnull=True)


def story_for_user(*, user, story_id: int, product=None) -> Story:
    qs = stories_for_user(user=user).select_related("product__workspace", "epic", "assignee")
    if product is not None:
        qs = qs.filter(product=product)
    return get_object_or_404(qs, pk=story_id)


# The story page's own reads, each compiled once per process (pmhub.prepared; decision 2132):
# building and compiling them cost the page more than running them.
_STORY_OF_PRODUCT = Prepared(Story, lambda story_id, product_id, *_: Story.objects.select_related(
    "epic", "assignee").filter(pk=story_id, product_id=product_id))
_COMMENTS = Prepared(Comment, lambda story_id, *_: Comment.objects.filter(story_id=story_id).select_related("author"))
_CRITERIA = Prepared(AcceptanceCriterion, lambda story_id, *_: AcceptanceCriterion.objects.filter(story_id=story_id))
_EPIC_CHOICES = Prepared(Epic, lambda product_id, *_: Epic.objects.filter(product_id=product_id)
                         .values_list("id", "title"))


def story_of_product(*, product, story_id: int) -> Story:
    """story_for_user on a page of `product`, which the page already read for its user (so the
    product is the scope): the product's story by id (404 otherwise), with its epic and assignee,
    and `product` itself attached, with its workspace and whatever relations the page read it
    with (its settings: no query when the story's panels ask for them)."""
    found = _STORY_OF_PRODUCT.objects(story_id, product.pk)
    if not found:
        raise Http404("No Story matches the given query.")
    story = found[0]
    story.product = product
    return story


def story_comments(*, story_id: int) -> list[Comment]:
    """A story's comments, oldest first, with their authors (one query)."""
    return _COMMENTS.objects(story_id)


def story_criteria(*, story_id: int) -> list[AcceptanceCriterion]:
    """A story's acceptance criteria in their order (one query)."""
    return _CRITERIA.objects(story_id)


def epic_choices(*, product_id: int) -> list[tuple[int, str]]:
    """(id, title) of a product's epics in their order: a select's options (one query)."""
    return _EPIC_CHOICES.rows(product_id)


def _json_contains(qs, path: str, value):
    if connection.vendor == "postgresql":
        return qs.filter(**{f"{path}__contains": [value]})
    return qs.filter(**{f"{path}__icontains": f'"{value}"'})


def stories_filtered(qs: QuerySet, *, params, fields: list[CustomField]) -> QuerySet:
    """Apply the backlog's filters (from the URL or a saved view) to a story queryset."""
    get = params.get
    if get("q"):
        qs = qs.filter(title__icontains=get("q"))
    if get("status"):
        qs = qs.filter(status=get("status"))
    if get("epic"):
        qs = qs.filter(epic__isnull=True) if get("epic") == "none" else qs.filter(epic_id=get("epic"))
    if get("assignee"):
        qs = qs.filter(assignee__isnull=True) if get("assignee") == "none" else qs.filter(assignee_id=get("assignee"))
    if get("label"):
        qs = _json_contains(qs, "labels", get("label"))
    if get("moscow"):
        qs = qs.filter(moscow=get("moscow"))
    if get("kano"):
        qs = qs.filter(kano=get("kano"))
    if get("score_min"):
        with contextlib.suppress(ValueError):
            qs = qs.filter(score__gte=float(get("score_min")))
    if get("score_max"):
        with contextlib.suppress(ValueError):
            qs = qs.filter(score__lte=float(get("score_max")))
    if get("scored") in ("yes", "no"):
        qs = qs.filter(score__isnull=get("scored") == "no")
    for field in fields:
        value = get(f"cf_{field.key}")
        if not value:
            continue
        if field.type == "multi_select":
            qs = _json_contains(qs, f"custom_values__{field.key}", value)
        elif field.type in ("number", "user"):
            with contextlib.suppress(ValueError):
                qs = qs.filter(
                    **{f"custom_values__{field.key}": float(value) if field.type == "number" else int(value)}
                )
        elif field.type == "text":
            qs = qs.annotate(**{f"_cf_{field.key}": KeyTextTransform(field.key, "custom_values")}).filter(
                **{f"_cf_{field.key}__icontains": value}
            )
        else:
            qs = qs.filter(**{f"custom_values__{field.key}": value})
    return qs


def stories_sorted(qs: QuerySet, *, sort: str, group_by: str = "", fields: list[CustomField]) -> QuerySet:
    keys = {f.key for f in fields}
    order: list = []
    if group_by in GROUPS:
        order.append(nulls_last(F(GROUPS[group_by]), descending=False))
    elif group_by.startswith("cf_") and group_by[3:] in keys:
        order.append(nulls_last(KeyTransform(group_by[3:], "custom_values"), descending=False))
    name = sort.lstrip("-")
    if sort in STORY_ORDERINGS.choices:
        order += STORY_ORDERINGS.order_by(sort)
    elif name.startswith("cf_") and name[3:] in keys:
        order += [nulls_last(KeyTransform(name[3:], "custom_values"), descending=sort.startswith("-")), "rank"]
    else:
        order += STORY_ORDERINGS.order_by(STORY_ORDERINGS.default)
    return qs.order_by(*order)


def stories_for_backlog(*, product, params=None, fields=None) -> QuerySet[Story]:
    """The product's backlog: filtered, sorted (and grouped), with what a row shows in one query."""
    params = params or {}
    fields = fields if fields is not None else custom_fields_of(product)
    qs = Story.objects.filter(product=product).select_related("epic", "assignee")
    qs = stories_filtered(qs, params=params, fields=fields)
    return stories_sorted(qs, sort=params.get("sort") or "rank", group_by=params.get("group") or "", fields=fields)


def saved_views_for(*, user, product) -> QuerySet[SavedView]:
    return SavedView.objects.filter(product=product).filter(Q(owner=user) | Q(shared=True)).select_related("owner")


# The backlog page's reads without filters, compiled once per process (pmhub.prepared; decision 2134).
_SAVED_VIEWS = Prepared(SavedView, lambda user_id, product_id, *_: saved_views_for(user=user_id, product=product_id))
_FIRST_ROWS: dict[int, Prepared] = {}


def saved_views_list(*, user, product) -> list[SavedView]:
    """saved_views_for as a list (one query compiled once): the backlog page's menu of views."""
    return _SAVED_VIEWS.objects(user.pk, product.pk)


def backlog_first_rows(*, product, limit: int) -> list[Story]:
    """stories_for_backlog(product=product)[:limit] without filters, sort or grouping (the backlog
    page as it opens): the same stories, one query compiled once per `limit`."""
    query = _FIRST_ROWS.get(limit)
    if query is None:
        query = _FIRST_ROWS[limit] = Prepared(Story, lambda product_id, *_: stories_sorted(
            Story.objects.filter(product_id=product_id).select_related("epic", "assignee"), sort="rank",
            fields=[])[:limit])
    return query.objects(product.pk)


def demand_of(story) -> dict:
    """Who asked for a story and its customer demand, the one definition the story page and the
    story API read: the companies, their segments and the highlighted insights a registered askers
    provider reports (discovery's "Who asked", backlog/demand.py), and the stored Story.demand."""
    from .demand import askers_of

    return askers_of(story) | {"demand": story.demand}


# --- progress (one definition: backlog/progress.py) -----------------------------------------
def saved_workflows(*, products) -> dict[int, list]:
    """product id -> saved workflow, for the products (ids or a subquery) that saved one."""
    return dict(BacklogSettings.objects.filter(product_id__in=products).values_list("product_id", "workflow"))


def category_filters(*, products=None, workflows: dict | None = None, prefix: str = "") -> dict[str, Q]:
    """Q objects that select the stories whose status is in the "done" and in the "excluded"
    category of THEIR product's workflow, for every product in `products` (ids or a subquery).

    One query (the products' saved workflows; none when `workflows` from saved_workflows is
    given); products that never saved one use the default workflow. Products sharing a workflow
    share one clause, so the SQL stays short."""
    saved = workflows if workflows is not None else saved_workflows(products=products)
    default = categories_of(None)
    result = {}
    for category in (CATEGORY_DONE, CATEGORY_EXCLUDED):
        by_statuses: dict[frozenset, list[int]] = {}
        for product_id, workflow in saved.items():
            by_statuses.setdefault(frozenset(statuses_in(categories_of(workflow), category)), []).append(product_id)
        q = Q(**{f"{prefix}status__in": sorted(statuses_in(default, category))})
        if saved:
            q &= ~Q(**{f"{prefix}product_id__in": list(saved)})
        for statuses, product_ids in by_statuses.items():
            if statuses:
                q |= Q(**{f"{prefix}product_id__in": product_ids, f"{prefix}status__in": sorted(statuses)})
        result[category] = q
    return result


def progress_grouped(*, rows: QuerySet, key, prefix: str = "", filters: dict | None = None) -> dict:
    """Progress per value of `key` over `rows` (a queryset of stories, of rows pointing at a
    story through `prefix`, e.g. "story__", or of StoryTally rows, which count stories in their
    `stories` column), in one grouped query plus one for the workflows (none when the caller
    passes the `filters` of category_filters for these products).
    The definition is backlog/progress.py's: excluded stories left out, done by category."""
    if filters is None:
        filters = category_filters(products=rows.values(f"{prefix}product_id"), prefix=prefix)
    done = filters[CATEGORY_DONE]
    if rows.model is StoryTally:  # signed rows: a group whose rows cancel out has no story
        counts = {"done_count": Sum("stories", filter=done), "total_count": Sum("stories")}
    else:
        counts = {"done_count": Count(f"{prefix}id", filter=done), "total_count": Count(f"{prefix}id")}
    grouped = (rows.exclude(filters[CATEGORY_EXCLUDED]).order_by().values(_key=F(key) if isinstance(key, str) else key)
               .annotate(done_points=Sum(f"{prefix}points", filter=done), total_points=Sum(f"{prefix}points"),
                         **counts))
    return {r["_key"]: Progress(r["done_points"] or 0, r["total_points"] or 0, r["done_count"] or 0, r["total_count"])
            for r in grouped if r["total_count"]}


def progress_rows(*, counted: bool = False) -> QuerySet:
    """What progress is summed over: the StoryTally rows on PostgreSQL (kept by triggers in the
    writers' transactions, a few per epic and status: decision 2040), so a product's, epic's,
    initiative's or objective's figure does not grow with its stories; the stories themselves on
    SQLite (the embedded demo) or with `counted` (the reference the tally is tested against).
    Both have the fields progress filters on: product_id, epic (and its relations), status, points."""
    if counted or connection.vendor != "postgresql":
        return Story.objects.all()
    return StoryTally.objects.all()


def progress_for_epics(*, epic_ids, counted: bool = False) -> dict[int, Progress]:
    """Progress of each epic: its stories."""
    return progress_grouped(rows=progress_rows(counted=counted).filter(epic_id__in=epic_ids), key="epic_id")


def progress_for_initiatives(*, initiative_ids, filters: dict | None = None,
                             counted: bool = False) -> dict[int, Progress]:
    """Progress of each initiative: the stories of its epics. `filters`: category_filters of the
    stories' products when the caller has them (a page of one product: no workflow query)."""
    return progress_grouped(rows=progress_rows(counted=counted).filter(epic__initiative_id__in=initiative_ids),
                            key="epic__initiative_id", filters=filters)


def progress_for_objectives(*, objective_ids, counted: bool = False) -> dict[int, Progress]:
    """Progress of each objective: the stories of its initiatives' epics (each story once per
    objective, since an epic has one initiative)."""
    return progress_grouped(rows=progress_rows(counted=counted).filter(epic__initiative__objectives__in=objective_ids),
                            key="epic__initiative__objectives")


def release_of_epic_expr(prefix: str = ""):
    """The release a story is in through its epic: the epic's own release, else its initiative's."""
    return Coalesce(f"{prefix}epic__release_id", f"{prefix}epic__initiative__release_id")


def progress_for_releases_through_epics(*, release_ids, filters: dict | None = None,
                                        counted: bool = False) -> dict[int, Progress]:
    """The epic half of a release's scope (delivery.selectors.release_progress adds the stories
    put in the release one by one and is what pages read)."""
    rows = progress_rows(counted=counted).annotate(_release=release_of_epic_expr()).filter(_release__in=release_ids)
    return progress_grouped(rows=rows, key="_release", filters=filters)


# The saved workflows of a list of products, compiled once per process and number of products
# (home's and the product list's progress: decision 2224).
_WORKFLOWS_OF = Prepared(BacklogSettings, lambda ids, *_: BacklogSettings.objects.filter(product_id__in=ids)
                         .values_list("product_id", "workflow"))


def progress_for_products(*, product_ids, counted: bool = False) -> dict[int, Progress]:
    """Progress of each product: the stories that belong to an epic (loose backlog items are
    ideas, not planned work). From the tally on PostgreSQL (progress_rows): home and the product
    list do not grow with the workspace's stories. "Done" and "excluded" by each product's saved
    workflow, read by the products' ids (saved_workflows of the same products: a product without
    stories adds a clause that selects nothing)."""
    ids = list(product_ids)
    if not ids:
        return {}
    workflows = dict(_WORKFLOWS_OF.rows(ids))
    rows = progress_rows(counted=counted)
    if rows.model is StoryTally:
        return _progress_by_status(_PRODUCT_STATUS_TALLY.rows(ids), workflows)
    return progress_grouped(rows=rows.filter(product_id__in=ids, epic__isnull=False),
                            key="product_id", filters=category_filters(workflows=workflows))


# The planned stories' tally of products per status, one query compiled once per number of products
# (decision 2322): the figures' SQL no longer holds the products' workflows (which changed it per
# workspace and made the ORM build it on every home view); the workflows apply to its few rows.
_PRODUCT_STATUS_TALLY = Prepared(StoryTally, lambda ids: StoryTally.objects
                                 .filter(product_id__in=ids, epic__isnull=False).order_by()
                                 .values_list("product_id", "status").annotate(n=Sum("stories"), pts=Sum("points")))


def _progress_by_status(rows, workflows: dict) -> dict[int, Progress]:
    """progress_grouped's figures from (product id, status, stories, points) rows: a status in the
    "excluded" category of its product's workflow (the saved one, else the default) is left out, one
    in "done" counts on both sides, any other on the total only (backlog/progress.py); a product
    whose stories sum to none has no figure."""
    sums: dict[int, list] = {}
    categories: dict[int, tuple[set, set]] = {}
    for product_id, status, n, pts in rows:
        if product_id not in categories:
            cats = categories_of(workflows.get(product_id))
            categories[product_id] = (statuses_in(cats, CATEGORY_DONE), statuses_in(cats, CATEGORY_EXCLUDED))
        done, excluded = categories[product_id]
        if status in excluded:
            continue
        figures = sums.setdefault(product_id, [0, 0, 0, 0])  # done points, total points, done count, total count
        pts = pts or 0
        figures[1] += pts
        figures[3] += n or 0
        if status in done:
            figures[0] += pts
            figures[2] += n or 0
    return {product_id: Progress(*figures) for product_id, figures in sums.items() if figures[3]}


def status_counts(*, product, story_ids: QuerySet | None = None, counted: bool = False) -> dict[str, tuple[int, int]]:
    """status -> (stories, points) over a product's stories, or only `story_ids` (a subquery, such
    as an iteration's open stays: counted from the stories). A whole product's from the tally on
    PostgreSQL (progress_rows), so the status board's counts do not grow with the backlog."""
    rows = progress_rows(counted=counted or story_ids is not None).filter(product=product)
    if story_ids is not None:
        rows = rows.filter(id__in=story_ids)
    n = Sum("stories") if rows.model is StoryTally else Count("id")
    return {row["status"]: (row["n"], row["pts"] or 0)
            for row in rows.order_by().values("status").annotate(n=n, pts=Sum("points")) if row["n"]}


def attach_progress(objects, figures: dict) -> None:
    """Set `work` (a Progress) and the four figures and `progress` (the ratio) on each object."""
    for obj in objects:
        work = figures.get(obj.pk, EMPTY)
        obj.work = work
        obj.done_points, obj.total_points = work.done_points, work.total_points
        obj.done_count, obj.total_count = work.done_count, work.total_count
        obj.progress = work.ratio


def attach_initiative_progress(initiatives, *, product=None) -> None:
    """Work progress on each initiative (one grouped query for all of them). With the `product`
    they all belong to (read with its `backlog_settings`), its workflow decides "done" without the
    query that looks up the workflows of the stories' products."""
    initiatives = list(initiatives)
    if initiatives:
        filters = None if product is None else category_filters(workflows=product_workflows(product=product))
        attach_progress(initiatives, progress_for_initiatives(initiative_ids=[i.pk for i in initiatives],
                                                              filters=filters))


def _in_category(product_id, own: tuple[str, ...], default: tuple[str, ...]) -> Q | None:
    """Tally rows whose status is in a category: by the product's own workflow (`own`) for its
    stories, by the default workflow's for another product's (attach_initiative_progress's filters)."""
    this = Q(product_id=product_id)
    clauses = ([this & Q(status__in=own)] if own else []) + ([~this & Q(status__in=default)] if default else [])
    return functools.reduce(operator.or_, clauses) if clauses else None


@functools.lru_cache(maxsize=64)
def _initiative_progress_query(done: tuple[str, ...], excluded: tuple[str, ...], some: bool = False) -> Prepared:
    """The tally of every initiative of one product, summed by the categories of a workflow whose
    done and excluded statuses are these, compiled once per process and workflow (pmhub.prepared):
    progress_for_initiatives by a list of 300 ids cost more in the ORM (building, the category
    clauses, preparing each id) than in PostgreSQL (decision 2131)."""
    default = categories_of(None)
    default_done = tuple(sorted(statuses_in(default, CATEGORY_DONE)))
    default_excluded = tuple(sorted(statuses_in(default, CATEGORY_EXCLUDED)))

    def build(product_id, *ids):
        is_done = _in_category(product_id, done, default_done)
        is_excluded = _in_category(product_id, excluded, default_excluded)
        rows = StoryTally.objects.filter(epic__initiative__product_id=product_id)
        if some:  # only these initiatives of the product (the page's drawn ones)
            rows = rows.filter(epic__initiative_id__in=ids[-1])
        if is_excluded is not None:
            rows = rows.exclude(is_excluded)
        zero = Value(0)
        return (rows.order_by().values_list("epic__initiative_id")
                .annotate(done_points=Sum("points", filter=is_done) if is_done else zero, total_points=Sum("points"),
                          done_count=Sum("stories", filter=is_done) if is_done else zero,
                          total_count=Sum("stories")))

    return Prepared(StoryTally, build)


def _id_bucket(ids) -> list[int]:
    """`ids` (not empty) padded to the next power of two with repeats of the first, so that a
    prepared `IN (...)` compiles for a few lengths, not for every count of initiatives a page shows."""
    ids = list(ids)
    size = 1 << (len(ids) - 1).bit_length()
    return ids + [ids[0]] * (size - len(ids))


def progress_for_product_initiatives(*, product, initiative_ids=None) -> dict[int, Progress]:
    """attach_initiative_progress(initiatives, product=product)'s figures for every initiative of
    `product` (read with its `backlog_settings`), or for those of `initiative_ids` among them (the
    100 bars a timeline draws of 300: the tally rows of the others were half the aggregate's
    time, decision 2351), in one grouped query compiled once per workflow (and per power of two of
    ids):
    the definition of backlog/progress.py, "done" and "excluded" by the product's workflow for
    its own stories and by the default workflow for another product's, as
    attach_initiative_progress's filters decide. Counted from the stories where there is no
    tally (SQLite): attach_initiative_progress's own query."""
    if initiative_ids is not None and not initiative_ids:
        return {}
    saved = product_workflows(product=product)
    if progress_rows().model is not StoryTally:
        if initiative_ids is None:
            ids = list(product.initiatives.values_list("id", flat=True))
        else:
            ids = list(product.initiatives.filter(id__in=list(initiative_ids)).values_list("id", flat=True))
        return progress_for_initiatives(initiative_ids=ids, filters=category_filters(workflows=saved))
    own = categories_of(saved[product.pk]) if saved else categories_of(None)
    query = _initiative_progress_query(tuple(sorted(statuses_in(own, CATEGORY_DONE))),
                                       tuple(sorted(statuses_in(own, CATEGORY_EXCLUDED))), initiative_ids is not None)
    values = (product.pk,) if initiative_ids is None else (product.pk, _id_bucket(initiative_ids))
    return {pk: Progress(done_points or 0, total_points or 0, done_count or 0, total_count)
            for pk, done_points, total_points, done_count, total_count in query.rows(*values) if total_count}


def product_workflows(*, product) -> dict[int, list]:
    """saved_workflows of one product from its settings (no query when the product was read with
    `backlog_settings`): {} when it never saved one (the default workflow)."""
    saved = settings_of(product)
    return {product.pk: saved.workflow} if saved.pk else {}


def attach_epic_progress(epics) -> None:
    epics = list(epics)
    if epics:
        attach_progress(epics, progress_for_epics(epic_ids=[e.pk for e in epics]))


def attach_objective_work(objectives) -> None:
    """Work progress of each objective as `work` (its `progress` stays the key results' mean)."""
    objectives = list(objectives)
    figures = progress_for_objectives(objective_ids=[o.pk for o in objectives]) if objectives else {}
    for objective in objectives:
        objective.work = figures.get(objective.pk, EMPTY)


def attach_product_progress(products) -> None:
    products = list(products)
    if products:
        attach_progress(products, progress_for_products(product_ids=[p.pk for p in products]))


def status_keys(*, product, categories: tuple[str, ...]) -> set[str]:
    """The product's workflow statuses in the given categories (no query when the product was
    fetched with its backlog settings)."""
    return statuses_in(categories_of(settings_of(product).workflow), *categories)


def done_statuses_of(*, product) -> frozenset[str]:
    """The statuses that count as done in the product's workflow (burn charts, velocity)."""
    return frozenset(status_keys(product=product, categories=(CATEGORY_DONE,)))


# --- work of an initiative or release ----------------------------------------------------------
def with_texts(stories):
    """Set `id_text`, `version_text` and `points_text` (str, "" for no points) on stories; returns
    them. A row or card prints its id eight or nine times (links, data attributes, labels): as
    an int, each one goes through the template's number localisation, a few hundred calls per
    page; as text, none. (Ids and versions are never grouped "12,345", so the text is the same.)"""
    for story in stories:
        story.id_text, story.version_text = str(story.id), str(story.version)
        story.points_text = "" if story.points is None else str(story.points)
    return stories


def with_status_labels(rows, product):
    """Set `status_label` (the workflow's label, never the raw key) on stories or epics; returns
    the rows."""
    labels = {s["key"]: s["label"] for s in settings_of(product).workflow}
    for row in rows:
        row.status_label = labels.get(row.status, row.status.replace("_", " ").capitalize())
    return rows


def epics_for_choice(*, product) -> QuerySet[Epic]:
    return Epic.objects.filter(product=product).only("id", "title", "initiative_id", "release_id").order_by("title")


def epics_of_initiative(*, initiative) -> list[Epic]:
    """The initiative's epics with their progress and release (three queries)."""
    epics = list(Epic.objects.filter(initiative=initiative).select_related("release").order_by("title", "id"))
    attach_epic_progress(epics)
    return with_status_labels(epics, initiative.product)


def stories_of_initiative(*, initiative, limit: int = 500) -> list[Story]:
    """The stories of the initiative's epics, in backlog order (one query)."""
    stories = list(Story.objects.filter(epic__initiative=initiative).select_related("epic", "assignee")
                   .order_by("rank", "id")[:limit])
    return with_status_labels(stories, initiative.product)


def epics_of_release(*, release) -> list[Epic]:
    """Epics in a release: their own release is it, or they have none and their initiative's is."""
    epics = list(Epic.objects.filter(Q(release=release) | Q(release__isnull=True, initiative__release=release))
                 .select_related("initiative").order_by("title", "id"))
    attach_epic_progress(epics)
    return with_status_labels(epics, release.product)


def stories_outside_initiative(*, initiative, limit: int = 300) -> list[Story]:
    """Stories an editor may take into the initiative: not in it, not finished, in backlog order."""
    finished = status_keys(product=initiative.product, categories=(CATEGORY_DONE, CATEGORY_EXCLUDED))
    return list(Story.objects.filter(product=initiative.product).exclude(epic__initiative=initiative)
                .exclude(status__in=finished).select_related("epic").only("id", "title", "points", "epic__title")
                .order_by("rank", "id")[:limit])


def top_by_score(*, product, limit: int = 15) -> list[Story]:
    """The open stories with the highest scores: done and excluded work (by the product's
    workflow categories) is left out, since prioritizing it decides nothing."""
    finished = status_keys(product=product, categories=(CATEGORY_DONE, CATEGORY_EXCLUDED))
    return list(Story.objects.filter(product=product, score__isnull=False).exclude(status__in=finished)
                .order_by("-score", "rank")[:limit])


# A board shows at most this many cards per column at first; "Show more" fetches the next ones,
# so a backlog of 20,000 stories never renders at once (docs/decisions/1313; 20 since 1920: a
# column on a 1440 px screen shows about six).
BOARD_COLUMN_LIMIT = 20


@dataclass
class BoardColumn:
    """One column of the status board: a workflow status (in the workflow's order) with how
    many stories and points it holds, and its first cards."""

    key: str
    label: str
    category: str
    count: int = 0
    points: int = 0
    stories: list = dc_field(default_factory=list)

    @property
    def has_more(self) -> bool:
        return self.count > len(self.stories)

    @property
    def collapsed(self) -> bool:
        """Excluded statuses (won't do) start folded: they are rarely what a person looks for."""
        return self.category == CATEGORY_EXCLUDED


def board_stories(*, product, story_ids: QuerySet | None = None) -> QuerySet[Story]:
    """The stories a status board shows: the product's, or only `story_ids` (a subquery, such as
    an iteration's open stays)."""
    qs = Story.objects.filter(product=product)
    if story_ids is not None:
        qs = qs.filter(id__in=story_ids)
    return qs


# What a card shows; the long text and JSON columns are left in the database.
CARD_DEFERRED = ("as_a", "i_want", "so_that", "description", "score_inputs", "demand", "custom_values",
                 "epic__description", "epic__score_inputs", "epic__demand", "epic__custom_values")
# A status board card as a named row (backlog/cards.py prints it): what the card shows, the epic's
# title and the assignee's name and e-mail joined; 120 rows a board instead of 120 stories, 120
# epics and their assignees as models (decision 2010).
CARD_ROW = ("id", "title", "status", "points", "score", "version", "epic_id", "epic__title", "assignee_id",
            "assignee__name", "assignee__email")


def _board_cards(base: QuerySet, *, statuses: list[str], limit: int) -> QuerySet:
    """The first `limit` stories of each status in backlog order as CARD_ROW rows, in one query.

    On PostgreSQL: `id IN ((first ids of status a) UNION ALL (first ids of status b) ...)`, each
    part an index walk of (product, rank) that stops after `limit` rows (0.4 ms at 20,000
    stories). Elsewhere (SQLite cannot order or limit the parts of a UNION): ROW_NUMBER() OVER
    (PARTITION BY status ORDER BY rank), which numbers every story of the product (80 ms at
    20,000 stories on PostgreSQL, which is why it is the fallback only)."""
    if not statuses:
        return base.none().values_list(*CARD_ROW, named=True)
    if connection.features.supports_slicing_ordering_in_compound:
        parts = [base.filter(status=key).order_by("rank", "id").values("id")[:limit] for key in statuses]
        first_ids = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
        return (base.filter(id__in=first_ids).order_by("status", "rank", "id")
                .values_list(*CARD_ROW, named=True))
    return (base.filter(status__in=statuses)
            .annotate(board_row=Window(RowNumber(), partition_by=[F("status")],
                                       order_by=[F("rank").asc(), F("id").asc()]))
            .filter(board_row__lte=limit).order_by("status", "rank", "id").values_list(*CARD_ROW, named=True))


def story_board(*, product, story_ids: QuerySet | None = None, limit: int = BOARD_COLUMN_LIMIT) -> list[BoardColumn]:
    """The status board: one column per status of the product's workflow, in its order and with
    its labels; per column the count and points of its stories and its first `limit` cards in
    backlog order (rank), as CARD_ROW rows.

    Two queries whatever the size: the counts (status_counts: the tally's rows of the product on
    PostgreSQL, decision 2040; one GROUP BY status of an iteration's stories) and the cards (one query,
    see _board_cards). Stories whose status the workflow no longer has are not shown (the
    backlog list still shows them)."""
    workflow = settings_of(product).workflow
    columns = {s["key"]: BoardColumn(key=s["key"], label=s["label"], category=s["category"]) for s in workflow}
    base = board_stories(product=product, story_ids=story_ids)
    for status, (n, points) in status_counts(product=product, story_ids=story_ids).items():
        if status in columns:
            columns[status].count, columns[status].points = n, points
    for card in _board_cards(base, statuses=list(columns), limit=limit):
        columns[card.status].stories.append(card)
    return list(columns.values())


def board_column_more(*, product, status: str, offset: int, story_ids: QuerySet | None = None,
                      limit: int = BOARD_COLUMN_LIMIT) -> tuple[list, bool]:
    """The next cards (CARD_ROW rows) of one board column after `offset` (backlog order), and
    whether more follow."""
    rows = list(board_stories(product=product, story_ids=story_ids).filter(status=status)
                .order_by("rank", "id").values_list(*CARD_ROW, named=True)[offset:offset + limit + 1])
    return rows[:limit], len(rows) > limit


def stories_for_write() -> QuerySet:
    """The stories a write reads before the workspace scope (the API's detail routes other than a
    get, and a move's first batch, decision 2200): with their product, epic and assignee in the same
    query; a deleted product's stories are not there."""
    return Story.objects.filter(product__deleted_at__isnull=True).select_related("epic", "assignee", "product")
