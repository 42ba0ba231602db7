"""Reads of the delivery app, scoped to the user's workspaces, annotated and prefetched."""

import functools
from datetime import date

from django.db import connection
from django.db.models import Count, DateTimeField, F, Func, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404

from backlog import selectors as backlog_selectors
from backlog.models import CATEGORY_DONE, CATEGORY_EXCLUDED, Story
from backlog.progress import EMPTY, Progress
from pmhub.access import workspace_ids_for
from pmhub.clock import today_in
from pmhub.prepared import Prepared
from roadmaps.models import Release

from . import burn
from .models import (
    ChangeRequest,
    ImportJob,
    Iteration,
    IterationItem,
    ReleaseScopeItem,
    StoryStatusEvent,
)


class _LocalMidnightAfter(Func):
    """The first instant after a date's local day in a time zone: (day + 1) at local midnight
    (burn.end_of_day in SQL; PostgreSQL)."""

    output_field = DateTimeField()

    def as_sql(self, compiler, connection, **extra):
        day, tz = (compiler.compile(e) for e in self.source_expressions)
        return f"(({day[0]} + 1)::timestamp AT TIME ZONE {tz[0]})", [*day[1], *tz[1]]

    def as_sqlite(self, compiler, connection, **extra):
        # SQLite knows no time zones: the same instant from a function registered on each
        # connection (delivery.apps), in the UTC text form Django stores datetimes in.
        day, tz = (compiler.compile(e) for e in self.source_expressions)
        return f"pmhub_local_midnight_after({day[0]}, {tz[0]})", [*day[1], *tz[1]]


def sqlite_local_midnight_after(day: str | None, time_zone: str | None) -> str | None:
    """_LocalMidnightAfter for SQLite: "YYYY-MM-DD" and a zone name -> the UTC instant of local
    midnight after that day, as "YYYY-MM-DD HH:MM:SS" (what Django writes for a datetime)."""
    from datetime import date, datetime, time, timedelta
    from zoneinfo import ZoneInfo

    if not day:
        return None
    local = datetime.combine(date.fromisoformat(str(day)[:10]) + timedelta(days=1), time(0),
                             tzinfo=ZoneInfo(time_zone or "UTC"))
    return local.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M:%S")


def _with_points(qs: QuerySet[Iteration]) -> QuerySet[Iteration]:
    """Annotate `committed_points` and `story_count`, THE definition of an iteration's committed
    points (every page, API, home panel, velocity and report reads it from here or from
    `iteration_points`, which computes the same through the burn series):

        committed points = the points (current estimates; none counts 0) of the iteration's
        stories that were not taken out before the end of its last day (local midnight after
        `end_date` in the workspace's time zone); while it runs, the stories in it now.

    A story carried over (taken out after the end) still counts: it was committed and not
    completed. A story taken out during the iteration does not. Before, the list counted only
    the stories still in the iteration (carry-overs left out: 13) and the velocity table the
    stories of its first day (21)."""
    end = _LocalMidnightAfter(F("end_date"), F("product__workspace__time_zone"))
    items = IterationItem.objects.filter(Q(removed_at__isnull=True) | Q(removed_at__gte=OuterRef("ends_at")),
                                         iteration=OuterRef("pk"))
    # Both figures as subqueries of the iteration row: a join to the items with COUNT made
    # PostgreSQL group every item row and run the points subquery once per item, quadratic in the
    # iteration's size (4 ms of the home page for 40 stories; decision 1957).
    return (qs.select_related("product__workspace").alias(ends_at=end)
            .annotate(committed_points=Coalesce(Subquery(
                items.values("iteration").annotate(total=Sum("story__points")).values("total")[:1],
                output_field=IntegerField()), Value(0)),
                story_count=Coalesce(Subquery(
                    items.values("iteration").annotate(n=Count("id", distinct=True)).values("n")[:1],
                    output_field=IntegerField()), Value(0))))


def iterations_for_user(*, user) -> QuerySet[Iteration]:
    return _with_points(Iteration.objects.filter(product__workspace_id__in=workspace_ids_for(user),
                                                 product__deleted_at__isnull=True))


def iterations_of_product(*, product) -> QuerySet[Iteration]:
    return _with_points(Iteration.objects.filter(product=product))


def iteration_for_product(*, product, iteration_id: int) -> Iteration:
    """An iteration of the product with its committed points and story count (404 otherwise). By an
    int id (every page's URL) the query is compiled once per process: building `_with_points`'s two
    subqueries in the ORM cost the iteration page more than running them (decision 2210)."""
    if isinstance(iteration_id, int) and not isinstance(iteration_id, bool):
        found = _ITERATION_OF_PRODUCT.objects(product.pk, iteration_id)
        if not found:
            raise Http404("No Iteration matches the given query.")
        return found[0]
    return get_object_or_404(iterations_of_product(product=product), pk=iteration_id)


_ITERATION_OF_PRODUCT = Prepared(Iteration, lambda product_id, iteration_id, *_: _with_points(
    Iteration.objects.filter(product_id=product_id, pk=iteration_id)))


def iteration_stories(*, iteration) -> QuerySet[Story]:
    return (Story.objects.filter(iteration_items__iteration=iteration, iteration_items__removed_at__isnull=True)
            .select_related("assignee", "epic").order_by("iteration_items__added_at", "id"))


def backlog_stories(*, product, limit: int = 200, offset: int = 0) -> QuerySet[Story]:
    """Stories not in any iteration and not finished (neither in a done nor in an excluded
    category of the product's workflow), in backlog order: the planning column, `limit` of
    them from `offset` (the page shows the first ones and loads the next as it scrolls)."""
    finished = backlog_selectors.status_keys(product=product, categories=(CATEGORY_DONE, CATEGORY_EXCLUDED))
    return (_unplanned(product.pk, finished).defer(*backlog_selectors.CARD_DEFERRED)
            .select_related("assignee", "epic")[offset:offset + limit])


def _unplanned(product_id: int, finished) -> QuerySet[Story]:
    planned = IterationItem.objects.filter(removed_at__isnull=True, story__product_id=product_id).values("story_id")
    return (Story.objects.filter(product_id=product_id).exclude(id__in=planned)
            .exclude(status__in=finished).order_by("rank", "id"))


# A story card's columns (delivery/cards.py: ID, TITLE, POINTS, STATUS, ASSIGNEE_NAME, ASSIGNEE_EMAIL).
CARD_VALUES = ("id", "title", "points", "status", "assignee__name", "assignee__email")


def iteration_cards(*, iteration) -> list[tuple]:
    """iteration_stories as card rows (CARD_VALUES): the plan's right column (one query compiled once)."""
    return _ITERATION_CARDS.rows(iteration.pk)


# The iteration page's reads of one shape, compiled once per process (pmhub.prepared; decision 2135).
_ITERATION_CARDS = Prepared(Story, lambda iteration_id, *_: Story.objects.filter(
    iteration_items__iteration_id=iteration_id, iteration_items__removed_at__isnull=True)
    .order_by("iteration_items__added_at", "id").values_list(*CARD_VALUES))
_STAYS = Prepared(IterationItem, lambda iteration_id, *_: IterationItem.objects.filter(iteration_id=iteration_id)
                  .values_list("story_id", "added_at", "removed_at"))


def _stayed(iteration_id):
    return IterationItem.objects.filter(iteration_id=iteration_id).values("story_id")


_EVENTS = Prepared(StoryStatusEvent, lambda iteration_id, *_: StoryStatusEvent.objects.filter(
    story_id__in=_stayed(iteration_id)).values_list("story_id", "at", "new_status"))
_POINTS = Prepared(Story, lambda iteration_id, *_: Story.objects.filter(id__in=_stayed(iteration_id))
                   .values_list("id", "points"))


def backlog_cards(*, product, limit: int, offset: int = 0) -> list[tuple]:
    """backlog_stories as card rows (CARD_VALUES): the plan's left column, the same stories in the
    same order. One query compiled once per process for each workflow and chunk (the workflow's
    finished statuses, the limit and the offset are constants of its SQL; decision 2210)."""
    finished = backlog_selectors.status_keys(product=product, categories=(CATEGORY_DONE, CATEGORY_EXCLUDED))
    return _backlog_cards_query(tuple(sorted(finished)), limit, offset).rows(product.pk)


@functools.lru_cache(maxsize=64)
def _backlog_cards_query(finished: tuple[str, ...], limit: int, offset: int) -> Prepared:
    return Prepared(Story, lambda product_id, *_: _unplanned(product_id, finished)
                    .values_list(*CARD_VALUES)[offset:offset + limit])


def burn_for(*, iteration, today: date | None = None) -> list[burn.BurnDay]:
    """Burn series of an iteration from its membership history and the status events."""
    tz = iteration.product.workspace.time_zone
    # The stories that ever stayed in it, as a subquery of the events' and the points' reads: each
    # of the three queries has one shape and is compiled once (decision 2135).
    stays = _STAYS.rows(iteration.pk)
    events = _EVENTS.rows(iteration.pk) if stays else []
    points = dict(_POINTS.rows(iteration.pk)) if stays else {}
    return burn.burn_series(start=iteration.start_date, end=iteration.end_date, tz=tz, stays=stays, events=events,
                            points=points, today=today or today_in(tz),
                            done_statuses=backlog_selectors.done_statuses_of(product=iteration.product))


def current_iterations(*, products, today: date, limit: int = 3) -> list[Iteration]:
    """Iterations running today (start <= today <= end) of the given products, with their
    committed points (`_with_points`, the one definition), newest start first: the burn-down
    charts of the progress report."""
    qs = Iteration.objects.filter(product__in=products, start_date__lte=today, end_date__gte=today)
    return list(_with_points(qs).order_by("-start_date", "id")[:limit])


def velocity_for(*, product, limit: int = 10) -> list[dict]:
    """Completed points per finished iteration (end date before today), oldest first.

    Three queries whatever the number of iterations: iterations, all their stays, all events."""
    tz = product.workspace.time_zone
    today = today_in(tz)
    iterations = list(Iteration.objects.filter(product=product, end_date__lt=today).order_by("-end_date")[:limit])
    iterations.reverse()
    if not iterations:
        return []
    stays_by_iteration: dict = {}
    for iteration_id, story_id, added, removed, pts in IterationItem.objects.filter(
            iteration__in=iterations).values_list("iteration_id", "story_id", "added_at", "removed_at",
                                                   "story__points"):
        stays_by_iteration.setdefault(iteration_id, []).append((story_id, added, removed, pts))
    story_ids = {s[0] for stays in stays_by_iteration.values() for s in stays}
    done_statuses = backlog_selectors.done_statuses_of(product=product)
    events = list(StoryStatusEvent.objects.filter(story_id__in=story_ids).values_list("story_id", "at", "new_status"))
    result = []
    for iteration in iterations:
        stays = stays_by_iteration.get(iteration.id, [])
        series = burn.burn_series(start=iteration.start_date, end=iteration.end_date, tz=tz,
                                  stays=[s[:3] for s in stays], events=events,
                                  points={s[0]: s[3] for s in stays}, done_statuses=done_statuses)
        result.append({"iteration_id": iteration.id, "name": iteration.name,
                       "start_date": iteration.start_date.isoformat(), "end_date": iteration.end_date.isoformat(),
                       "committed": burn.committed_points(stays=[s[:3] for s in stays],
                                                          points={s[0]: s[3] for s in stays},
                                                          end=iteration.end_date, tz=tz),
                       "completed": burn.completed_points(series),
                       "length_days": iteration.length_days})
    return result


def velocity_summary(*, product) -> dict:
    history = velocity_for(product=product)
    average = burn.average_velocity([h["completed"] for h in history])
    lengths = [h["length_days"] for h in history[-3:]]
    return {"iterations": history, "average": average,
            "iteration_days": round(sum(lengths) / len(lengths)) if lengths else None}


# --- releases -----------------------------------------------------------------------------
def _direct_items_outside_epics(release_ids):
    """Stories put in a release one by one that are not already in it through their epic
    (so a story in both ways counts once)."""
    through_epic = backlog_selectors.release_of_epic_expr("story__")
    return (ReleaseScopeItem.objects.filter(release_id__in=release_ids).alias(_through_epic=through_epic)
            .filter(Q(_through_epic__isnull=True) | ~Q(_through_epic=F("release_id"))))


def release_progress(*, release_ids) -> dict[int, Progress]:
    """Progress of each release over its scope: the stories of the epics in it (an epic's own
    release, else its initiative's) plus the stories put in it one by one, each story once.
    The definition is backlog/progress.py's; three queries whatever the number of releases."""
    release_ids = list(release_ids)
    if not release_ids:
        return {}
    workflows = backlog_selectors.saved_workflows(
        products=Release.objects.filter(id__in=release_ids).values("product_id"))
    figures = backlog_selectors.progress_for_releases_through_epics(
        release_ids=release_ids, filters=backlog_selectors.category_filters(workflows=workflows))
    direct = backlog_selectors.progress_grouped(
        rows=_direct_items_outside_epics(release_ids), key="release_id", prefix="story__",
        filters=backlog_selectors.category_filters(workflows=workflows, prefix="story__"))
    return {rid: figures.get(rid, EMPTY) + direct.get(rid, EMPTY) for rid in set(figures) | set(direct)}


def attach_release_progress(releases) -> None:
    """Set `work` (and the four figures and `progress`) on each release, for pages and the API."""
    releases = list(releases)
    if releases:
        backlog_selectors.attach_progress(releases, release_progress(release_ids=[r.pk for r in releases]))


def release_scope_story_ids(*, release) -> dict[int, str]:
    """Story id -> how it is in the release's scope: "epic" (through its epic) or "direct"."""
    through_epic = backlog_selectors.release_of_epic_expr()
    in_epics = Story.objects.alias(_release=through_epic).filter(_release=release.id).values_list("id", flat=True)
    ids = dict.fromkeys(in_epics, "epic")
    for sid in ReleaseScopeItem.objects.filter(release=release).values_list("story_id", flat=True):
        ids.setdefault(sid, "direct")
    return ids


def releases_for_user(*, user) -> QuerySet[Release]:
    """Releases with `pending_change_requests`; their scope figures (scope_count, scope_points:
    the release's progress totals) are attached after the fetch by attach_release_progress."""
    return (Release.objects.filter(product__workspace_id__in=workspace_ids_for(user),
                                   product__deleted_at__isnull=True)
            .select_related("product__workspace")
            .annotate(pending_change_requests=Count("change_requests", filter=Q(change_requests__status="pending"),
                                                    distinct=True))
            .after_fetch(_attach_scope_figures))


def _attach_scope_figures(releases) -> None:
    attach_release_progress(releases)
    for release in releases:
        release.scope_count, release.scope_points = release.total_count, release.total_points


def release_for_product(*, product, release_id: int) -> Release:
    return get_object_or_404(Release.objects.select_related("product__workspace"), product=product, pk=release_id)


def scope_summary(*, release) -> dict:
    """Current scope (backlog/progress.py: the stories of the epics in the release plus those put
    in one by one) against the latest approved baseline: added, removed, points delta. Each story
    carries `via` ("epic" or "direct") and `status_label`."""
    via = release_scope_story_ids(release=release)
    stories = list(Story.objects.filter(id__in=list(via)).select_related("assignee", "epic").order_by("id"))
    for story in stories:
        story.via = via[story.id]
    backlog_selectors.with_status_labels(stories, release.product)
    current = {s.id: s for s in stories}
    approval = release.scope_approvals.select_related("approved_by").first()
    approved_ids = set(approval.story_ids) if approval else set()
    added_ids = set(current) - approved_ids if approval else set()
    removed_ids = approved_ids - set(current)
    removed = list(Story.objects.filter(id__in=removed_ids).order_by("id"))
    work = release_progress(release_ids=[release.id]).get(release.id, EMPTY)
    current_points = work.total_points
    return {
        "stories": list(current.values()),
        "work": work,
        "approval": approval,
        "current_points": current_points,
        "approved_points": approval.total_points if approval else None,
        "points_delta": current_points - approval.total_points if approval else None,
        "added": [current[i] for i in sorted(added_ids)],
        "removed": removed,
    }


def change_requests_for_user(*, user) -> QuerySet[ChangeRequest]:
    return (ChangeRequest.objects.filter(release__product__workspace_id__in=workspace_ids_for(user),
                                         release__product__deleted_at__isnull=True)
            .select_related("story", "proposed_by", "decided_by", "release__product"))


def change_requests_of(*, release) -> QuerySet[ChangeRequest]:
    return release.change_requests.select_related("story", "proposed_by", "decided_by")


def imports_for_user(*, user) -> QuerySet[ImportJob]:
    return (ImportJob.objects.filter(product__workspace_id__in=workspace_ids_for(user),
                                     product__deleted_at__isnull=True)
            .select_related("product", "job").defer("rows", "raw"))


def stories_for_export(*, product, status: str = "", epic: str = "", assignee: str = "", label: str = ""):
    qs = Story.objects.filter(product=product).select_related("assignee", "epic", "import_ref").order_by("id")
    if status:
        qs = qs.filter(status=status)
    if epic:
        qs = qs.filter(epic_id=epic) if epic.isdigit() else qs.filter(epic__title=epic)
    if assignee:
        qs = qs.filter(assignee_id=assignee) if assignee.isdigit() else qs.filter(assignee__email__iexact=assignee)
    if label:
        if connection.features.supports_json_field_contains:
            qs = qs.filter(labels__contains=[label])
        else:  # SQLite (the embedded demo mode): narrow down in SQL, then check exactly
            ids = [sid for sid, labels in Story.objects.filter(product=product, labels__icontains=label)
                   .values_list("id", "labels") if label in (labels or [])]
            qs = qs.filter(id__in=ids)
    return qs
