"""Reads of the metrics app, scoped to the user's workspaces; dashboard series in few queries."""

import hashlib
import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import router
from django.db.models import Avg, Count, Max, Min, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.http import Http404
from django.shortcuts import get_object_or_404

from pmhub.access import workspace_ids_for
from pmhub.prepared import Prepared

from . import figures
from .models import ActionPlan, Kpi, KpiHealth, KpiMeasured, Measurement, MeasurementUpload

RANGES = {"30": 30, "90": 90, "365": 365}
DEFAULT_RANGE = "90"


def with_measured_stamp(qs: QuerySet[Kpi]) -> QuerySet[Kpi]:
    """The KPIs with `measured_stamp`, their measurements' stamp (metrics.models.KpiMeasured): what
    the dashboards' cache key reads instead of an aggregate of the measurements (decision 2321)."""
    return qs.annotate(measured_stamp=Subquery(KpiMeasured.objects.filter(kpi_id=OuterRef("pk")).values("stamp")[:1]))


def kpis_for_user(*, user) -> QuerySet[Kpi]:
    return Kpi.objects.filter(product__workspace_id__in=workspace_ids_for(user), product__deleted_at__isnull=True)


def kpis_of_product(*, product) -> QuerySet[Kpi]:
    return (Kpi.objects.filter(product=product).select_related("owner")
            .annotate(open_plans=Count("action_plans", filter=~Q(action_plans__status=ActionPlan.Status.CLOSED),
                                       distinct=True)))


# The KPI of a KPI page by id, with its (live) product, the product's workspace and the owner, compiled
# once per process (pmhub.prepared, decision 2140): the page takes its product from it.
_KPI_OF_PAGE = Prepared(Kpi, lambda kpi_id: with_measured_stamp(
    Kpi.objects.filter(pk=kpi_id, product__deleted_at__isnull=True).select_related("product__workspace", "owner")))


def kpi_for_user(*, user, kpi_id: int, product=None) -> Kpi:
    """One KPI of a live product in the user's workspaces (404 otherwise), with product__workspace
    and owner loaded."""
    if product is None and isinstance(kpi_id, int) and not isinstance(kpi_id, bool):
        found = _KPI_OF_PAGE.objects(kpi_id)
        if not found or found[0].product.workspace_id not in workspace_ids_for(user):
            raise Http404("No Kpi matches the given query.")
        return found[0]
    qs = kpis_for_user(user=user).select_related("product__workspace", "owner")
    if product is not None:
        qs = qs.filter(product=product)
    return get_object_or_404(qs, pk=kpi_id)


def measurements_for_user(*, user) -> QuerySet[Measurement]:
    return Measurement.objects.filter(kpi__product__workspace_id__in=workspace_ids_for(user),
                                      kpi__product__deleted_at__isnull=True)


def health_for_user(*, user) -> QuerySet[KpiHealth]:
    return KpiHealth.objects.filter(kpi__product__workspace_id__in=workspace_ids_for(user),
                                    kpi__product__deleted_at__isnull=True)


def plans_for_user(*, user) -> QuerySet[ActionPlan]:
    return (ActionPlan.objects.filter(kpi__product__workspace_id__in=workspace_ids_for(user),
                                      kpi__product__deleted_at__isnull=True)
            .select_related("kpi__product", "owner"))


def plans_of_workspace(*, workspace) -> QuerySet[ActionPlan]:
    return (ActionPlan.objects.filter(kpi__product__workspace=workspace, kpi__product__deleted_at__isnull=True)
            .select_related("kpi__product", "owner").order_by("status", "due_date", "-id"))


def upload_for_user(*, user, kpi: Kpi, upload_id: int) -> MeasurementUpload:
    return get_object_or_404(MeasurementUpload.objects.filter(kpi=kpi, created_by=user).defer("raw"), pk=upload_id)


def linked_key_results(kpi: Kpi) -> list:
    """Key results following this KPI (roadmaps' KeyResult.kpi); empty when that model is absent."""
    manager = getattr(kpi, "key_results", None)
    if manager is None:
        return []
    try:
        return list(manager.all()[:50])
    except Exception:  # noqa: BLE001 - another app's model; never break the KPI page for it
        return []


# --- dashboards ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Window:
    start: date
    end: date
    key: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def previous(self) -> "Window":
        end = self.start - timedelta(days=1)
        return Window(end - timedelta(days=self.days - 1), end, "previous")


def window_from(params, *, today: date) -> Window:
    """The period picker: ?range=30|90|365 or ?range=custom&start=YYYY-MM-DD&end=YYYY-MM-DD."""
    key = params.get("range") or DEFAULT_RANGE
    if key == "custom":
        try:
            start, end = date.fromisoformat(params.get("start", "")), date.fromisoformat(params.get("end", ""))
        except ValueError:
            start = end = None
        if start and end and start <= end and (end - start).days <= 3660:
            return Window(start, end, "custom")
        key = DEFAULT_RANGE
    days = RANGES.get(key, RANGES[DEFAULT_RANGE])
    return Window(today - timedelta(days=days - 1), today, key if key in RANGES else DEFAULT_RANGE)


def _num(value) -> float | None:
    return float(value) if value is not None else None


DASHBOARD_CACHE_SECONDS = 300
_KPI_FIELDS = ("id", "version", "name", "product_id", "unit", "direction", "aggregation", "health", "current_value",
               "current_at", "target_value", "target_date", "warning_threshold", "critical_threshold")


# The measurements' fingerprint of _dashboard_key, the aggregate `.aggregate(n=Count("id"),
# changed=Max("updated_at"), total=Sum("value"), last=Max("id"))` as a one-group query (no row:
# no measurement), compiled once per number of KPIs (decision 2143).
_FINGERPRINT = Prepared(Measurement, lambda ids, first, end: Measurement.objects.filter(
    kpi_id__in=ids, period_start__range=(first, end)).order_by().annotate(_all=Value(1)).values("_all")
    .annotate(n=Count("id"), changed=Max("updated_at"), total=Sum("value"), last=Max("id"))
    .values_list("n", "changed", "total", "last"))


def _dashboard_key(kpis: list[Kpi], window: Window) -> str:
    """The cache key of the KPIs' figures in the window: their fields and their measurements'
    stamps (`measured_stamp`, read with the KPIs: no query; decision 2321). A KPI read without its
    stamp, or one without a stamp row, takes a fingerprint of the measurements in both windows
    instead (one aggregate query)."""
    stamps = [getattr(k, "measured_stamp", None) for k in kpis]
    if None in stamps:
        rows = _FINGERPRINT.rows([k.id for k in kpis], window.previous.start, window.end)
        n, changed, total, last = rows[0] if rows else (0, None, None, None)
        measured = sorted({"n": n, "changed": changed, "total": total, "last": last}.items())
    else:
        measured = ("stamps", stamps)
    inputs = repr(([tuple(getattr(k, f) for f in _KPI_FIELDS) for k in kpis], window.start, window.end, measured))
    return "metrics:dashboard:" + hashlib.blake2b(inputs.encode(), digest_size=20).hexdigest()


def dashboard_data(*, kpis: list[Kpi], window: Window, key: str | None = None) -> list[dict]:
    """dashboard_data_uncached, cached under a key made of its inputs: every field of the KPIs it
    shows and their measurements' stamps, which the database changes on every write of a
    measurement (or, for KPIs read without them, a fingerprint of their measurements in both
    windows). A write that adds, deletes or changes a measurement or a KPI changes the key, so the
    next read recomputes: no stale figure, no invalidation to forget.
    See docs/decisions/1903-dashboard-cache-keys.md and 2321."""
    if not kpis:
        return []
    key = key or _dashboard_key(kpis, window)
    cached = cache.get(key)
    if cached is None:
        cached = dashboard_data_uncached(kpis=kpis, window=window)
        cache.set(key, cached, DASHBOARD_CACHE_SECONDS)
    return cached


def dashboard_page_data(*, kpis: list[Kpi], window: Window) -> tuple[list[dict], str]:
    """What the dashboard page prints, from dashboard_data's very rows: the tiles (each row
    without its points) and the JSON text of the rows (points and all) that the page's charts
    read. Cached beside dashboard_data under the same key, so the same write that changes the
    figures changes both; a page view then reads a small entry and a string instead of unpickling
    every point and encoding it again (decision 1958, extending 1903)."""
    if not kpis:
        return [], "[]"
    key = _dashboard_key(kpis, window)
    page = cache.get(key + ":page")
    if page is None:
        rows = dashboard_data(kpis=kpis, window=window, key=key)
        page = ([{k: v for k, v in row.items() if k != "points"} for row in rows],
                json.dumps(rows, cls=DjangoJSONEncoder))
        cache.set(key + ":page", page, DASHBOARD_CACHE_SECONDS)
    return page


def dashboard_data_uncached(*, kpis: list[Kpi], window: Window) -> list[dict]:
    """Series and period comparison of many KPIs in two queries, whatever their number.

    1. One values() query of every point of every KPI in both windows (sparklines, charts and the
       previous window's last value for "last" KPIs).
    2. One aggregate query grouped by KPI, with conditional aggregates of the window (sum,
       average, distinct values): the `period_value` of the CSV export.
    Each tile's `change` is metrics.figures.kpi_change: the current value against the latest
    value of the previous window of the same length.
    """
    ids = [k.id for k in kpis]
    prev = window.previous
    points: dict[int, list] = {i: [] for i in ids}
    prev_last: dict[int, Decimal] = {}
    rows = (Measurement.objects.filter(kpi_id__in=ids, period_start__range=(prev.start, window.end))
            .order_by("kpi_id", "period_start").values_list("kpi_id", "period_start", "value"))
    for kpi_id, day, value in rows:
        if day < window.start:
            prev_last[kpi_id] = value
        else:
            points[kpi_id].append([day.isoformat(), float(value)])
    cur = Q(period_start__gte=window.start)
    summary = {
        row["kpi_id"]: row for row in
        Measurement.objects.filter(kpi_id__in=ids, period_start__range=(prev.start, window.end))
        .values("kpi_id").annotate(
            cur_sum=Sum("value", filter=cur), cur_avg=Avg("value", filter=cur),
            cur_distinct=Count("value", filter=cur, distinct=True),
        ).order_by()
    }
    result = []
    for kpi in kpis:
        s = summary.get(kpi.id, {})
        series = points[kpi.id]
        if kpi.aggregation == Kpi.Aggregation.SUM:
            now = s.get("cur_sum")
        elif kpi.aggregation == Kpi.Aggregation.AVERAGE:
            now = s.get("cur_avg")
        elif kpi.aggregation == Kpi.Aggregation.COUNT_DISTINCT:
            now = s.get("cur_distinct") or None
        else:  # last: the window's latest point
            now = Decimal(str(series[-1][1])) if series else None
        change = figures.kpi_change(current=kpi.current_value, before=prev_last.get(kpi.id),
                                    direction=kpi.direction)
        result.append({
            "id": kpi.id, "name": kpi.name, "product": kpi.product_id, "unit": kpi.unit,
            "direction": kpi.direction, "aggregation": kpi.aggregation, "health": kpi.health,
            "current": _num(kpi.current_value), "current_at": kpi.current_at.isoformat() if kpi.current_at else None,
            "target": _num(kpi.target_value), "target_date": kpi.target_date.isoformat() if kpi.target_date else None,
            "target_text": figures.target_text(kpi.target_value, kpi.target_date, kpi.unit),
            "warning": _num(kpi.warning_threshold), "critical": _num(kpi.critical_threshold),
            # The window's aggregate (sum, average, ...) for the CSV export; the tile shows
            # `current` and its `change` against `previous_value` (metrics.figures).
            "period_value": _num(now), "previous_value": _num(prev_last.get(kpi.id)),
            "delta_pct": change["pct"] if change else None, "change": change,
            "points": series,
        })
    return result


def dashboard_kpis_of_product(*, product) -> list[Kpi]:
    """The product's KPIs by name, with their measurements' stamp (the dashboard's cache key)."""
    return list(with_measured_stamp(Kpi.objects.filter(product=product).order_by("name")))


def dashboard_kpis_of_workspace(*, workspace) -> list:
    """The KPIs of the workspace's live products, by product name and name, as named rows of what
    the dashboard reads: the fields of its cache key and figures (_KPI_FIELDS), `measured_stamp`
    and `product__name` (compiled once: decisions 2143, 2326; rows, not model instances with their
    products: a fifth of the time)."""
    return _WORKSPACE_KPIS.named(workspace.id)


_WORKSPACE_KPIS = Prepared(Kpi, lambda workspace_id: with_measured_stamp(Kpi.objects.filter(
    product__workspace_id=workspace_id, product__deleted_at__isnull=True))
    .order_by("product__name", "name").values_list(*_KPI_FIELDS, "measured_stamp", "product__name"))


def dashboard_products(kpis: list) -> list:
    """The products of dashboard_kpis_of_workspace's rows, once each in their order, as Product
    instances holding their id and name (any other field is read from the database when asked)."""
    product_model = Kpi._meta.get_field("product").related_model
    alias = router.db_for_read(Kpi)
    seen = {}
    for kpi in kpis:
        if kpi.product_id not in seen:
            seen[kpi.product_id] = product_model.from_db(alias, ["id", "name"], [kpi.product_id, kpi.product__name])
    return list(seen.values())


def health_summary(*, workspace) -> dict:
    """Counts of KPIs per health in the workspace (one query, compiled once: decision 2120)."""
    counts = dict(_HEALTH_COUNTS.rows(workspace.id))
    return {"on_track": counts.get("on_track", 0), "at_risk": counts.get("at_risk", 0),
            "off_track": counts.get("off_track", 0), "unknown": counts.get("unknown", 0),
            "total": sum(counts.values())}


def objectives_with_progress(*, products: list) -> list[dict]:
    """The products' objectives (at most 50) with their key-result progress in percent (None
    without key results), as roadmaps computes it, and their work progress (`work`, the
    backlog's definition: backlog/progress.py)."""
    from backlog.selectors import attach_objective_work
    from roadmaps.selectors import objectives_of_products
    from roadmaps.selectors import objectives_with_progress as with_progress

    objectives = with_progress(objectives_of_products(product_ids=[p.id for p in products]))
    attach_objective_work(objectives)
    return [{"title": o.title, "progress": round(100 * o.progress) if o.progress is not None else None,
             "work": o.work} for o in objectives]



# Home's KPI panel on every view, compiled once per process (pmhub.prepared, decision 2120).
_HEALTH_COUNTS = Prepared(Kpi, lambda workspace_id: Kpi.objects.filter(
    product__workspace_id=workspace_id, product__deleted_at__isnull=True)
    .values_list("health").annotate(n=Count("id")).order_by())
_OPEN_PLANS = Prepared(ActionPlan, lambda workspace_id: ActionPlan.objects.filter(
    kpi__product__workspace_id=workspace_id).exclude(status=ActionPlan.Status.CLOSED)
    .order_by().annotate(_all=Value(1)).values("_all").annotate(n=Count("id")).values_list("n"))


def open_plans_count(*, workspace) -> int:
    """Action plans of the workspace's KPIs that are not closed (home's KPI panel; one query)."""
    rows = _OPEN_PLANS.rows(workspace.id)
    return rows[0][0] if rows else 0


# --- the KPI page's reads of one KPI, each compiled once per process (decision 2141) ---------------
# The ORM queries the page ran through the KPI's related managers, written on the KPI's id; linked
# models through Kpi's relations (the apps this app may not import).
_Initiative = Kpi._meta.get_field("initiatives").related_model
_Epic = Kpi._meta.get_field("epics").related_model
_KeyResult = Kpi._meta.get_field("key_results").related_model
_SPAN = Prepared(Measurement, lambda kpi_id: Measurement.objects.filter(kpi_id=kpi_id).order_by()
                 .annotate(_all=Value(1)).values("_all")
                 .annotate(first=Min("period_start"), last=Max("period_start")).values_list("first", "last"))
_LINKED = {model: Prepared(model, lambda kpi_id, model=model: model.objects.filter(kpis__id=kpi_id)
                           .values_list("id", "title")) for model in (_Initiative, _Epic)}
_LATEST_VALUES = Prepared(Measurement, lambda kpi_id: Measurement.objects.filter(kpi_id=kpi_id)
                          .order_by("-period_start").values_list("id", "period_start", "value", "source")[:100])
_HISTORY = Prepared(KpiHealth, lambda kpi_id: KpiHealth.objects.filter(kpi_id=kpi_id)[:20])
_PLANS = Prepared(ActionPlan, lambda kpi_id: ActionPlan.objects.filter(kpi_id=kpi_id).select_related("owner")[:20])
_KEY_RESULTS = Prepared(_KeyResult, lambda kpi_id: _KeyResult.objects.filter(kpi_id=kpi_id)[:50])


def measurement_span(kpi: Kpi) -> dict:
    """{"first": , "last": } period starts of the KPI's values (None without values): the
    aggregate `kpi.measurements.aggregate(first=Min, last=Max)`."""
    rows = _SPAN.rows(kpi.id)
    first, last = rows[0] if rows else (None, None)
    return {"first": first, "last": last}


def linked_work(kpi: Kpi) -> tuple[list, list]:
    """The KPI's initiatives and epics as (id, title) named rows, in their models' order:
    `kpi.initiatives.values_list("id", "title", named=True)` and the same of epics."""
    return _LINKED[_Initiative].named(kpi.id), _LINKED[_Epic].named(kpi.id)


def latest_values(kpi: Kpi) -> list[tuple]:
    """The latest 100 values as (id, period_start, value, source) rows, newest first."""
    return _LATEST_VALUES.rows(kpi.id)


def _known(objects: list, kpi: Kpi) -> list:
    for obj in objects:  # as the related manager leaves them: their KPI is this one, not read again
        obj.kpi = kpi
    return objects


def health_history(kpi: Kpi) -> list[KpiHealth]:
    """The latest 20 health evaluations (`kpi.health_history.all()[:20]`)."""
    return _known(_HISTORY.objects(kpi.id), kpi)


def plans_of_kpi(kpi: Kpi) -> list[ActionPlan]:
    """The latest 20 action plans with their owner (`kpi.action_plans.select_related("owner")[:20]`)."""
    return _known(_PLANS.objects(kpi.id), kpi)


def key_results_of_kpi(kpi: Kpi) -> list:
    """Key results following this KPI, at most 50 (`kpi.key_results.all()[:50]`)."""
    return _known(_KEY_RESULTS.objects(kpi.id), kpi)
