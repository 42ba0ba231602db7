"""Report sections: one function per section, each a fixed number of queries (no per-row query).

Every function returns JSON-safe data, because a run stores its report (a retry mails the same
content); `available` is always true now that every section's models exist (the templates still
show a section's `reason` when it is false).

Signature: section(*, products, today, previous) -> dict, where `previous` is the same section's
data of the subscription's previous run (for "changed since the last report").
"""

from datetime import date, timedelta
from decimal import Decimal

from backlog import selectors as backlog_selectors
from backlog.models import CATEGORY_DONE, CATEGORY_EXCLUDED, Story
from delivery.selectors import burn_for, current_iterations, release_progress
from governance.selectors import above_appetite_for_products, next_launches, risk_summary
from metrics.models import ActionPlan, Health, Kpi, KpiHealth
from metrics.selectors import DEFAULT_RANGE, RANGES, Window, dashboard_data
from pmhub.formatting import date as human_date
from pmhub.formatting import kpi_value, plural
from roadmaps.graph import schedule_counts
from roadmaps.models import Initiative, Objective, Release
from roadmaps.selectors import initiative_schedule, objectives_with_progress

BACKLOG_TOP = 10
# Charts (specs for pmhub.charts, stored with the run's data; decisions/1400).
KPI_TREND_DAYS = RANGES[DEFAULT_RANGE]  # the KPI page's default range: the same points on both
KPI_CHARTS = 8
PROGRESS_BARS = 12
BURN_CHARTS = 3


def _pct(value) -> str:
    return kpi_value(value, "percent")


def progress_chart(*, chart_id: str, title: str, noun: str, rows: list[dict], key: str) -> dict:
    """Horizontal bars of work progress (`work.percent`, backlog/progress.py) of the first
    PROGRESS_BARS rows; the summary states every figure drawn."""
    shown = rows[:PROGRESS_BARS]
    bars = [{"label": r[key], "value": r["work"]["percent"],
             "note": f"{r['work']['done_points']}/{r['work']['total_points']} pts"} for r in shown]
    parts = [f"{b['label']} {_pct(b['value']) if b['value'] is not None else 'no stories yet'}" for b in bars]
    more = f"; {len(rows) - len(shown)} more in the table" if len(rows) > len(shown) else ""
    summary = f"Work progress of {plural(len(rows), noun)}: " + "; ".join(parts) + more + "." if rows \
        else f"No {noun}s yet."
    return {"id": chart_id, "kind": "bars", "title": title, "summary": summary, "bars": bars}


def kpi_chart(row: dict, *, window: Window) -> dict:
    """A KPI's measurements in the window (metrics.selectors.dashboard_data, what the KPI page
    draws for the same range) with its target line."""
    points, unit = row["points"], row["unit"]
    first, last = points[0], points[-1]
    low = min(points, key=lambda p: p[1])
    high = max(points, key=lambda p: p[1])
    summary = (f"{row['name']}: {kpi_value(last[1], unit)} on {human_date(last[0])}"
               + (f", from {kpi_value(first[1], unit)} on {human_date(first[0])}" if len(points) > 1 else "")
               + f"; lowest {kpi_value(low[1], unit)}, highest {kpi_value(high[1], unit)}"
               + f" ({plural(len(points), 'measurement')} in the {window.days} days to {human_date(window.end)})"
               + f"; target {row['target_text']}.")
    return {"id": f"kpi-{row['id']}", "kind": "line", "title": f"{row['name']}, last {window.days} days",
            "summary": summary, "unit": unit, "x": [p[0] for p in points],
            "series": [{"name": row["name"], "values": [p[1] for p in points]}],
            "target": row["target"],
            "target_label": f"Target {row['target_text']}" if row["target"] is not None else ""}


def burn_chart(*, iteration, series: list) -> dict:
    """Burn-down of a running iteration: remaining points per day (delivery.burn, the series the
    iteration page draws) against the ideal line; committed points from `_with_points`."""
    drawn = [d for d in series if d.remaining is not None]
    last = drawn[-1] if drawn else None
    summary = (f"{iteration.name} ({human_date(iteration.start_date)} to {human_date(iteration.end_date)}): "
               f"{plural(iteration.committed_points, 'point')} committed"
               + (f"; on {human_date(last.day)} {plural(last.completed, 'point')} completed and "
                  f"{plural(last.remaining, 'point')} remaining (ideal {plural(last.ideal, 'point')})"
                  if last else "; not started")
               + ".")
    return {"id": f"burn-{iteration.id}", "kind": "line", "zero": True, "unit": "count",
            "title": f"Burn-down: {iteration.name} ({iteration.product.name})", "summary": summary,
            "x": [d.day.isoformat() for d in series],
            "series": [{"name": "Remaining points", "values": [d.remaining for d in series]},
                       {"name": "Ideal", "values": [d.ideal for d in series], "style": "dashed"}],
            "target": None, "committed": iteration.committed_points,
            "completed": last.completed if last else None, "remaining": last.remaining if last else None}


def _num(value):
    if value is None:
        return None
    if isinstance(value, Decimal):
        return float(value)
    return value


def _iso(value):
    return value.isoformat() if isinstance(value, date) else value


# --- roadmap progress ---------------------------------------------------------------------------
def roadmap(*, products, today: date, previous: dict | None) -> dict:
    """Initiatives done / on track / at risk / late (roadmaps.graph.schedule_state: a past end
    date is late, a dependency conflict at risk), status changes, and each initiative's work
    progress (`work`: backlog/progress.py, the figure the roadmap shows)."""
    rows = list(Initiative.objects.filter(product__in=products).exclude(status="cancelled")
                .select_related("product", "owner").order_by("end_date", "id"))
    states = initiative_schedule(initiatives=rows, today=today)
    counts = schedule_counts(states.values())
    work = backlog_selectors.progress_for_initiatives(initiative_ids=[i.id for i in rows]) if rows else {}
    items = []
    for i in rows:
        state = states[i.id]
        items.append({"id": i.id, "title": i.title, "product": i.product.name, "status": i.status,
                      "status_label": i.get_status_display(), "state": state, "end_date": _iso(i.end_date),
                      "owner": i.owner.display_name if i.owner else "",
                      "work": work.get(i.id, backlog_selectors.EMPTY).as_dict()})
    before = (previous or {}).get("states", {})
    changes = []
    for item in items:
        old = before.get(str(item["id"]))
        if old is not None and old != item["status"]:
            changes.append({"title": item["title"], "from": old, "to": item["status"]})
        elif old is None and previous is not None:
            changes.append({"title": item["title"], "from": "", "to": item["status"]})
    chart = progress_chart(chart_id="roadmap-progress", title="Roadmap progress: work done per initiative",
                           noun="initiative", rows=items, key="title")
    return {"available": True, "counts": counts, "total": len(items), "charts": [chart],
            "late": [i for i in items if i["state"] == "late"],
            "items": items, "changes": changes, "states": {str(i["id"]): i["status"] for i in items}}


# --- objectives and key results -------------------------------------------------------------------
def objectives(*, products, today: date, previous: dict | None) -> dict:
    """Objectives with their key results; a key result linked to a KPI reports the KPI's value,
    and an objective's progress (in percent here) is the mean of its key results'
    (roadmaps.selectors.objectives_with_progress); `work` is the work progress of its
    initiatives' stories (backlog/progress.py)."""
    objectives_ = objectives_with_progress(Objective.objects.filter(product__in=products).order_by("id"))
    backlog_selectors.attach_objective_work(objectives_)
    items = [{
        "title": o.title,
        "work": o.work.as_dict(),
        "progress": round(100 * o.progress) if o.progress is not None else None,
        "key_results": [{
            "title": kr.title,
            "current": _num(kr.current),
            "target": _num(kr.target_value),
            "progress": _num(kr.progress),
        } for kr in o.key_results.all()],
    } for o in objectives_]
    return {"available": True, "items": items}


# --- KPI health --------------------------------------------------------------------------------
def _kpi_health_rows(kpis_: list) -> dict[int, str]:
    """Latest recorded health transition per KPI (one query)."""
    if not kpis_:
        return {}
    states: dict[int, str] = {}
    rows = (KpiHealth.objects.filter(kpi_id__in=[k.id for k in kpis_])
            .order_by("kpi_id", "-evaluated_at").values_list("kpi_id", "status"))
    for kpi_id, status in rows:
        if status and kpi_id not in states:
            states[kpi_id] = status
    return states


def _kpi_state(kpi, health: dict[int, str] | None = None) -> str:
    """The health the metrics app computed, if any; else the current value against the target."""
    if health and kpi.id in health:
        return health[kpi.id]
    if kpi.health and kpi.health != Health.UNKNOWN:  # "unknown": metrics has not evaluated it yet
        return kpi.health
    if kpi.current_value is None or kpi.target_value is None:
        return "unknown"
    if kpi.direction == "lower":
        return "on_track" if kpi.current_value <= kpi.target_value else "off_track"
    return "on_track" if kpi.current_value >= kpi.target_value else "off_track"


def kpis(*, products, today: date, previous: dict | None) -> dict:
    rows = list(Kpi.objects.filter(product__in=products).select_related("product").order_by("product__name", "name"))
    health = _kpi_health_rows(rows)
    items = []
    for k in rows:
        state = _kpi_state(k, health)
        items.append({"id": k.id, "name": k.name, "product": k.product.name, "unit": k.unit,
                      "current": _num(k.current_value), "target": _num(k.target_value),
                      "current_at": _iso(k.current_at), "state": state, "state_label": state.replace("_", " ")})
    before = (previous or {}).get("states", {})
    changed = [{"name": i["name"], "from": before[str(i["id"])], "to": i["state"]}
               for i in items if str(i["id"]) in before and before[str(i["id"])] != i["state"]]
    counts: dict[str, int] = {}
    for i in items:
        counts[i["state"]] = counts.get(i["state"], 0) + 1
    window = Window(today - timedelta(days=KPI_TREND_DAYS - 1), today, DEFAULT_RANGE)
    trends = [r for r in dashboard_data(kpis=rows, window=window) if r["points"]]
    charts = [kpi_chart(r, window=window) for r in trends[:KPI_CHARTS]]
    return {"available": True, "items": items, "counts": counts, "changed": changed, "charts": charts,
            "charts_left_out": len(trends) - len(charts), "trend_days": KPI_TREND_DAYS,
            "states": {str(i["id"]): i["state"] for i in items}}


# --- releases ------------------------------------------------------------------------------------
def releases(*, products, today: date, previous: dict | None) -> dict:
    """Upcoming and recently shipped releases, each with its scope's progress (`work`)."""
    rows = list(Release.objects.filter(product__in=products).select_related("product").order_by("release_date", "id"))
    work = release_progress(release_ids=[r.id for r in rows])
    items = []
    for r in rows:
        overdue = r.status != "released" and r.release_date is not None and r.release_date < today
        items.append({"name": r.name, "product": r.product.name, "status": r.status,
                      "status_label": r.get_status_display(), "release_date": _iso(r.release_date),
                      "overdue": overdue, "work": work.get(r.id, backlog_selectors.EMPTY).as_dict()})
    upcoming = [i for i in items if i["status"] != "released"]
    charts = [burn_chart(iteration=it, series=burn_for(iteration=it, today=today))
              for it in current_iterations(products=products, today=today, limit=BURN_CHARTS)]
    if upcoming:
        charts.append(progress_chart(chart_id="release-progress", title="Release progress: work done per release",
                                     noun="release", rows=upcoming, key="name"))
    return {"available": True, "upcoming": upcoming, "charts": charts,
            "released": [i for i in items if i["status"] == "released"][-5:]}


# --- top of the backlog ---------------------------------------------------------------------------
def backlog(*, products, today: date, previous: dict | None) -> dict:
    """The top open stories by rank: stories in a done or excluded category of their product's
    workflow are left out."""
    stories = Story.objects.filter(product__in=products)
    finished = backlog_selectors.category_filters(products=stories.values("product_id"))
    rows = list(stories.exclude(finished[CATEGORY_DONE] | finished[CATEGORY_EXCLUDED])
                .select_related("product").order_by("rank", "id")[:BACKLOG_TOP])
    return {"available": True, "ordered_by": "rank", "items": [
        {"id": s.id, "title": s.title, "product": s.product.name, "status": s.status, "points": s.points,
         "score": _num(s.score)} for s in rows]}


# --- action plans ----------------------------------------------------------------------------------
def action_plans(*, products, today: date, previous: dict | None) -> dict:
    rows = (ActionPlan.objects.filter(kpi__product__in=products).exclude(status=ActionPlan.Status.CLOSED)
            .select_related("kpi").order_by("id")[:50])
    return {"available": True, "items": [
        {"title": p.title, "kpi": p.kpi.name, "status": p.status, "due_date": _iso(p.due_date)} for p in rows]}


# --- risks above appetite (governance) ------------------------------------------------------------------
def risks(*, products, today: date, previous: dict | None) -> dict:
    """Open risks and issues scoring above their product's appetite (governance.scoring), highest
    first, with the register's counts (two queries)."""
    rows = above_appetite_for_products(products=products)
    counts = risk_summary(products=products)
    return {"available": True, "open": counts["open"], "above": counts["above"], "items": [
        {"id": r.id, "title": r.title, "product": r.product.name, "kind": r.kind, "score": r.score,
         "appetite": r.appetite, "owner": r.owner.display_name if r.owner else "", "status": r.status,
         "trend": r.trend, "review_date": _iso(r.review_date)} for r in rows]}


# --- launch readiness of the next releases (governance) -------------------------------------------------
def launches(*, products, today: date, previous: dict | None) -> dict:
    """The next (not released) releases with their launch readiness (governance.readiness: the
    share of required launch items done): two queries."""
    items = []
    for r in next_launches(products=products, today=today)[:10]:
        ready = r.readiness
        items.append({"name": r.name, "product": r.product.name, "release_date": _iso(r.release_date),
                      "has_checklist": ready is not None,
                      "percent": ready["percent"] if ready else None,
                      "required_open": ready["required_open"] if ready else 0,
                      "ready": ready["ready"] if ready else True})
    return {"available": True, "items": items}


SECTIONS = {
    "roadmap": roadmap,
    "objectives": objectives,
    "kpis": kpis,
    "releases": releases,
    "backlog": backlog,
    "action_plans": action_plans,
    "risks": risks,
    "launches": launches,
}
