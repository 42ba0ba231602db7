"""Reads of the adoption app. Querysets are scoped to the user's workspaces; the figures come from
the rollup tables (never from raw events), in a fixed number of aggregate queries."""

from datetime import date, timedelta

from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404

from pmhub.access import workspace_ids_for
from pmhub.clock import today_in
from pmhub.ordering import nulls_last_key
from pmhub.prepared import Prepared

from . import analytics
from .models import (
    ActorDay,
    Feature,
    FeatureDaily,
    FeatureFirstUse,
    IngestionKey,
    OutcomeReview,
    ProductDaily,
    WindowCount,
)
from .rollups import FUNNEL_WINDOWS, TABLE_WINDOWS


# --- scoped querysets ----------------------------------------------------------------------------
def features_for_user(*, user) -> QuerySet[Feature]:
    return (Feature.objects.filter(product__workspace_id__in=workspace_ids_for(user), product__deleted_at__isnull=True)
            .select_related("product", "kpi"))


def feature_for_user(*, user, feature_id: int, product=None) -> Feature:
    qs = features_for_user(user=user)
    if product is not None:
        qs = qs.filter(product=product)
    return get_object_or_404(qs, pk=feature_id)


def rollups_for_user(*, user) -> QuerySet[FeatureDaily]:
    return (FeatureDaily.objects.filter(product__workspace_id__in=workspace_ids_for(user))
            .select_related("feature").order_by("-day", "feature_id"))


def outcome_reviews_for_user(*, user) -> QuerySet[OutcomeReview]:
    return (OutcomeReview.objects.filter(product__workspace_id__in=workspace_ids_for(user))
            .select_related("kpi", "epic", "initiative", "release", "product").prefetch_related("checkpoints"))


def ingestion_keys_for_product(*, product) -> QuerySet[IngestionKey]:
    return IngestionKey.objects.filter(product=product).select_related("created_by")


# --- adoption figures ----------------------------------------------------------------------------
def _windows(end: date, window: int) -> tuple[date, date]:
    """Start (exclusive) of the current window and of the previous one."""
    return end - timedelta(days=window), end - timedelta(days=2 * window)


def adoption_by_feature(*, product_id: int, end: date, window: int = analytics.ADOPTION_WINDOW_DAYS) -> dict:
    """{feature_id: {users, active, percent, previous_users, previous_active, previous_percent, trend,
    window_start, window_end}} of one product: `adoption_of_products` for one."""
    return adoption_of_products(product_ids=[product_id], end=end, window=window).get(product_id, {})


def adoption_of_products(*, product_ids: list[int], end: date,
                         window: int = analytics.ADOPTION_WINDOW_DAYS) -> dict[int, dict]:
    """THE adoption % and active users of every page, API, KPI, dashboard and report
    (docs/figures.md):

        active users = distinct actors with any event in the `window` local days ending on `end`
        adoption %   = distinct actors who used the feature in those days / active users x 100
                       (analytics.adoption_percent, two decimals; None when nobody was active)

    The window is 7 days (analytics.ADOPTION_WINDOW_DAYS) ending today in the workspace's time
    zone unless a page offers another one, and every surface writes it beside the figure
    ("7 days to 2026-12-04"). Also the previous window of the same length and the trend in points.
    {product_id: {feature_id: {...}}}; the counts the worker precomputed for the 7- and 28-day
    windows (one query, see _precomputed_windows), else two aggregate queries over ActorDay;
    plus one for the feature ids, whatever the number of products."""
    cur_start, prev_start = _windows(end, window)
    per_key, active, missing = _precomputed_windows(product_ids, end, window)
    if missing:
        per_key |= {(pid, key): {"cur": cur, "prev": prev}
                    for pid, key, cur, prev in _LIVE_WINDOWS_BY_KEY.rows(missing, prev_start, end, cur_start)}
        active |= {pid: {"cur": cur, "prev": prev}
                   for pid, cur, prev in _LIVE_WINDOWS.rows(missing, prev_start, end, cur_start)}
    out: dict[int, dict] = {pid: {} for pid in product_ids}
    for fid, pid, key in (_FEATURE_KEYS.rows(list(product_ids)) if product_ids else []):
        r = per_key.get((pid, key), {"cur": 0, "prev": 0})
        a = active.get(pid, {"cur": 0, "prev": 0})
        percent = analytics.adoption_percent(r["cur"], a["cur"])
        previous = analytics.adoption_percent(r["prev"], a["prev"])
        out[pid][fid] = {"users": r["cur"], "active": a["cur"], "percent": percent,
                         "previous_users": r["prev"], "previous_active": a["prev"], "previous_percent": previous,
                         "trend": analytics.trend_points(percent, previous),
                         "window_start": cur_start + timedelta(days=1), "window_end": end, "window_days": window}
    return out


# Features without a figure (no active users, no previous window) come last both ways (pmhub/ordering.py).
SORTS = {
    "adoption": lambda r: (*nulls_last_key(r["percent"], descending=True), r["feature"].label.lower()),
    "-adoption": lambda r: (*nulls_last_key(r["percent"], descending=False), r["feature"].label.lower()),
    "trend": lambda r: (*nulls_last_key(r["trend"], descending=True), r["feature"].label.lower()),
    "-trend": lambda r: (*nulls_last_key(r["trend"], descending=False), r["feature"].label.lower()),
    "name": lambda r: r["feature"].label.lower(),
}


def _precomputed_windows(product_ids: list[int], end: date, window: int) -> tuple[dict, dict, list[int]]:
    """The distinct counts of adoption_of_products as the worker stored them after its last rollup
    (rollups.windows_refresh, for the windows TABLE_WINDOWS ending on the day it ran): one query
    of a few rows per feature instead of counting distinct actors over two windows of ActorDay
    (docs/decisions/1913-adoption-table-precomputed-windows.md). Only exact: the rows of this
    `end`; a product without them (no rollup yet today, another window) is in `missing`, for the
    live count. ActorDay only changes in rollups, and every rollup task refreshes these rows, so
    they are exactly as fresh as the live count."""
    if window not in TABLE_WINDOWS:
        return {}, {}, list(product_ids)
    prev_end = end - timedelta(days=window)
    per_key: dict = {}
    active: dict = {}
    for product_id, day, key, users in (_STORED_WINDOWS.rows(list(product_ids), window, end, prev_end)
                                        if product_ids else []):
        target = active.setdefault(product_id, {}) if key == "" else per_key.setdefault((product_id, key), {})
        target["cur" if day == end else "prev"] = users
    complete = {pid for pid, a in active.items() if "cur" in a and "prev" in a}
    per_key = {k: {"cur": v.get("cur", 0), "prev": v.get("prev", 0)} for k, v in per_key.items() if k[0] in complete}
    active = {pid: a for pid, a in active.items() if pid in complete}
    return per_key, active, [pid for pid in product_ids if pid not in complete]


def adoption_table(*, product, end: date | None = None, window: int = analytics.ADOPTION_WINDOW_DAYS,
                   sort: str = "adoption") -> dict:
    """The product's feature table: adoption % in the window ending `end` (default: today,
    local), the previous window and the trend, sorted by adoption (default) or trend."""
    end = end or today_in(product.workspace.time_zone)
    figures = adoption_by_feature(product_id=product.id, end=end, window=window)
    features = list(Feature.objects.filter(product=product).select_related("kpi"))
    rows = [{"feature": f, **figures.get(f.id, {})} for f in features]
    rows.sort(key=SORTS.get(sort, SORTS["adoption"]))
    active = next(iter(figures.values()), {}).get("active", 0) if figures else 0
    return {"rows": rows, "end": end, "start": end - timedelta(days=window - 1), "window": window,
            "active": active, "sort": sort if sort in SORTS else "adoption"}


def adoption_funnel(*, product, start: date, end: date) -> list[dict]:
    """For metrics dashboards: per feature, active users of the product in [start, end] (local days,
    inclusive), users of the feature in the same range, and adoption % (users / active)."""
    return adoption_funnels(products=[product], start=start, end=end)[product.id]


# The queries of adoption_funnels and adoption_of_products (the dashboards), compiled once per
# process and number of products (pmhub.prepared, decision 2142). Values: product ids, then days
# and dates; an empty id list is never sent (the ORM answers none without a query).
def _live(ids, first, end, *, after: bool):
    days = Q(day__gt=first) if after else Q(day__gte=first)
    return ActorDay.objects.filter(days, product_id__in=ids, day__lte=end)


def _live_windows(ids, prev_start, end, cur_start, *group):
    return _live(ids, prev_start, end, after=True).values(*group).annotate(
        cur=Count("actor", distinct=True, filter=Q(day__gt=cur_start)),
        prev=Count("actor", distinct=True, filter=Q(day__lte=cur_start)))


_STORED_FUNNELS = Prepared(WindowCount, lambda ids, days, end, oldest: WindowCount.objects.filter(
    product_id__in=ids, days=days, end__lte=end, end__gte=oldest)
    .order_by("product_id", "-end").values_list("product_id", "end", "feature_key", "users"))
_LIVE_FUNNELS_BY_KEY = Prepared(ActorDay, lambda ids, start, end: _live(ids, start, end, after=False)
                                .values("product_id", "feature_key").annotate(n=Count("actor", distinct=True))
                                .values_list("product_id", "feature_key", "n"))
_LIVE_FUNNELS = Prepared(ActorDay, lambda ids, start, end: _live(ids, start, end, after=False)
                         .values("product_id").annotate(n=Count("actor", distinct=True)).values_list("product_id", "n"))
_FEATURE_ROWS = Prepared(Feature, lambda ids: Feature.objects.filter(product_id__in=ids).order_by("name", "key")
                         .values_list("id", "product_id", "key", "name"))
_STORED_WINDOWS = Prepared(WindowCount, lambda ids, days, end, prev_end: WindowCount.objects.filter(
    Q(end=end) | Q(end=prev_end), product_id__in=ids, days=days)
    .values_list("product_id", "end", "feature_key", "users"))
_LIVE_WINDOWS_BY_KEY = Prepared(ActorDay, lambda ids, prev_start, end, cur_start: _live_windows(
    ids, prev_start, end, cur_start, "product_id", "feature_key")
    .values_list("product_id", "feature_key", "cur", "prev"))
_LIVE_WINDOWS = Prepared(ActorDay, lambda ids, prev_start, end, cur_start: _live_windows(
    ids, prev_start, end, cur_start, "product_id").values_list("product_id", "cur", "prev"))
_FEATURE_KEYS = Prepared(Feature, lambda ids: Feature.objects.filter(product_id__in=ids)
                         .values_list("id", "product_id", "key"))


def adoption_funnels(*, products, start: date, end: date) -> dict[int, list[dict]]:
    """adoption_funnel of several products in a fixed number of queries (4).

    A standard period (30, 90 or 365 days) is read from the counts the worker precomputed after
    its last rollup (WindowCount, `as_of` = the last day they cover, at most a week back when no
    rollup ran since); any other period, or a product without precomputed counts, is counted
    from ActorDay in the request."""
    ids = [p.id for p in products]
    days = (end - start).days + 1
    counts: dict[int, dict[str, int]] = {}
    as_of: dict[int, date] = {}
    if days in FUNNEL_WINDOWS and ids:
        for product_id, last, key, users in _STORED_FUNNELS.rows(ids, days, end, end - timedelta(days=7)):
            if as_of.setdefault(product_id, last) == last:
                counts.setdefault(product_id, {})[key] = users
    missing = [i for i in ids if i not in counts]
    if missing:
        for product_id, key, users in _LIVE_FUNNELS_BY_KEY.rows(missing, start, end):
            counts.setdefault(product_id, {})[key] = users
        for product_id, users in _LIVE_FUNNELS.rows(missing, start, end):
            counts.setdefault(product_id, {})[""] = users
    out: dict[int, list[dict]] = {i: [] for i in ids}
    # The features as rows (a workspace's dashboard lists ~300): the label is Feature.label's rule.
    for fid, product_id, key, name in (_FEATURE_ROWS.rows(ids) if ids else []):
        mine = counts.get(product_id, {})
        active, n = mine.get("", 0), mine.get(key, 0)
        out[product_id].append({"feature_id": fid, "feature": name or key, "key": key, "active_users": active,
                                "users": n, "adoption_percent": analytics.adoption_percent(n, active),
                                "as_of": as_of.get(product_id, end)})
    return out


def feature_series(*, feature: Feature, start: date, end: date) -> list[dict]:
    """Per local day: users of the feature that day and in the trailing 7 days, weekly active
    users of the product, and 7-day adoption % (from the stored rollups; two queries)."""
    daily = {r.day: r for r in FeatureDaily.objects.filter(feature=feature, day__gte=start, day__lte=end)}
    product_daily = {r.day: r for r in ProductDaily.objects.filter(product_id=feature.product_id,
                                                                   day__gte=start, day__lte=end)}
    out = []
    d = start
    while d <= end:
        f, p = daily.get(d), product_daily.get(d)
        users_7d = f.users_7d if f else 0
        active_7d = p.active_7d if p else 0
        out.append({"day": d, "users": f.users if f else 0, "events": f.events if f else 0, "users_7d": users_7d,
                    "active_7d": active_7d, "adoption_percent": analytics.adoption_percent(users_7d, active_7d)})
        d += timedelta(days=1)
    return out


def feature_retention(*, feature: Feature, end: date | None = None, cohorts: int = 8) -> dict:
    """Weekly retention of the feature's adopters: one curve per weekly cohort (first use in
    that week) over the last `cohorts` weeks ending on `end`, and their size-weighted average.
    Two queries: first use per actor, and the (actor, day) uses since the first cohort."""
    end = end or today_in(feature.product.workspace.time_zone)
    first_start = end - timedelta(days=7 * cohorts - 1)
    base = ActorDay.objects.filter(product_id=feature.product_id, feature_key=feature.key)
    # First uses as the rollup keeps them (FeatureFirstUse): a range read, where MIN(day) per actor
    # over the feature's whole history took 1.6 s at 10 M events (decision 1914).
    mine = FeatureFirstUse.objects.filter(product_id=feature.product_id, feature_key=feature.key)
    earlier = mine.filter(actor=OuterRef("actor"), day__lt=first_start)
    firsts = (mine.filter(day__gte=first_start, day__lte=end).exclude(Exists(earlier))
              .values("actor").annotate(first=Min("day")))
    first_use = dict(firsts.values_list("actor", "first"))
    # The cohorts' actors as a list when there are few (the usual case), else a subquery.
    cohort = list(first_use) if len(first_use) <= 2_000 else firsts.values("actor")
    activity = list(base.filter(day__gte=first_start, day__lte=end, actor__in=cohort)
                    .values_list("actor", "day")) if first_use else []
    curves, sizes, out = [], [], []
    for i in range(cohorts):
        cohort_start = first_start + timedelta(days=7 * i)
        elapsed = (end - cohort_start).days // 7 + 1
        curve = analytics.retention_curve(first_use, activity, cohort_start=cohort_start, weeks=elapsed)
        size = curve[0]["users"] if curve else 0
        out.append({"start": cohort_start, "size": size, "curve": curve})
        if size:
            curves.append(curve)
            sizes.append(size)
    return {"cohorts": out, "combined": analytics.retention_combined(curves, sizes), "end": end}


# --- outcomes ------------------------------------------------------------------------------------
def review_rows(reviews) -> list[dict]:
    """Predicted vs measured per review: baseline, the 30- and 90-day values and their relative
    change (positive = improvement, following the KPI's direction)."""
    rows = []
    for review in reviews:
        lower = review.kpi.direction == "lower"
        checkpoints = {c.window_days: c for c in review.checkpoints.all()}
        row = {"review": review, "subject": review.subject, "kind": review.subject_kind,
               "predicted_score": review.predicted_score, "predicted": review.predicted}
        for days in (30, 90):
            c = checkpoints.get(days)
            value = c.value if c and c.measured_at else None
            row[f"value_{days}"] = value
            row[f"due_{days}"] = c.due_at if c else None
            row[f"change_{days}"] = analytics.relative_change(review.baseline_value, value, lower_is_better=lower)
        rows.append(row)
    return rows


def outcome_calibration(rows: list[dict]) -> dict:
    """How well past scores predicted outcomes: Spearman rho (and n) of predicted score vs
    measured relative change, per review window."""
    out = {}
    for days in (30, 90):
        pairs = [(r["predicted_score"], r[f"change_{days}"]) for r in rows
                 if r["predicted_score"] is not None and r[f"change_{days}"] is not None]
        rho, n = analytics.spearman([p[0] for p in pairs], [p[1] for p in pairs])
        out[days] = {"rho": rho, "n": n}
    return out
