"""Report sections: one function per section, each a fixed number of queries (no per-row query).

Every function returns JSON-safe data, because a run stores its report (a retry mails the same
content); `available` is always true now that every section's models exist (the templates still
show a section's `reason` when it is false).

Signature: section(*, products, today, previous) -> dict, where `previous` is the same section's
data of the subscription's previous run (for "changed since the last report").
"""

from datetime import date
from decimal import Decimal

from backlog import selectors as backlog_selectors
from backlog.models import CATEGORY_DONE, CATEGORY_EXCLUDED, Story
from delivery.selectors import release_progress
from governance.selectors import above_appetite_for_products, next_launches, risk_summary
from metrics.models import ActionPlan, Health, Kpi, KpiHealth
from roadmaps.graph import schedule_counts
from roadmaps.models import Initiative, Objective, Release
from roadmaps.selectors import initiative_schedule, objectives_with_progress

BACKLOG_TOP = 10


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
    return {"available": True, "counts": counts, "total": len(items),
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
    return {"available": True, "items": items, "counts": counts, "changed": changed,
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
    return {"available": True, "upcoming": [i for i in items if i["status"] != "released"],
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
