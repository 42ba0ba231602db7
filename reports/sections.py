"""Report sections: one function per section, each a fixed number of queries (no per-row query).

A section reads what exists. Models and fields other engineers add later (objectives, KPI health,
action plans, story rank/score) are looked up at run time, so the section fills in once they are
merged and says "not available" until then. Every function returns JSON-safe data, because a run
stores its report (a retry mails the same content).

Signature: section(*, products, today, previous) -> dict, where `previous` is the same section's
data of the subscription's previous run (for "changed since the last report").
"""

from datetime import date
from decimal import Decimal

from django.apps import apps
from django.core.exceptions import FieldError

BACKLOG_TOP = 10
DONE_STORY_STATUSES = ("done", "wont_do")


def _model(app_label: str, name: str):
    try:
        return apps.get_model(app_label, name)
    except LookupError:
        return None


def _has_field(model, name: str) -> bool:
    try:
        model._meta.get_field(name)
        return True
    except Exception:  # FieldDoesNotExist
        return False


def _num(value):
    if value is None:
        return None
    if isinstance(value, Decimal):
        return float(value)
    return value


def _iso(value):
    return value.isoformat() if isinstance(value, date) else value


def _unavailable(reason: str) -> dict:
    return {"available": False, "reason": reason}


# --- roadmap progress ---------------------------------------------------------------------------
def roadmap(*, products, today: date, previous: dict | None) -> dict:
    """Initiatives done / on track / late (end date passed and not done), and status changes."""
    Initiative = _model("roadmaps", "Initiative")
    rows = list(Initiative.objects.filter(product__in=products).exclude(status="cancelled")
                .select_related("product", "owner").order_by("end_date", "id"))
    items, counts = [], {"done": 0, "on_track": 0, "late": 0}
    for i in rows:
        if i.status == "done":
            state = "done"
        elif i.end_date and i.end_date < today:
            state = "late"
        else:
            state = "on_track"
        counts[state] += 1
        items.append({"id": i.id, "title": i.title, "product": i.product.name, "status": i.status,
                      "status_label": i.get_status_display(), "state": state, "end_date": _iso(i.end_date),
                      "owner": i.owner.display_name if i.owner else ""})
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
    Objective = _model("roadmaps", "Objective")
    if Objective is None:
        return _unavailable("Objectives are not set up yet.")
    try:
        qs = Objective.objects.filter(product__in=products)
        related = [r.get_accessor_name() for r in Objective._meta.related_objects
                   if r.related_model.__name__ == "KeyResult"]
        if related:
            qs = qs.prefetch_related(related[0])
        result = []
        for o in qs.order_by("id"):
            krs = list(getattr(o, related[0]).all()) if related else []
            result.append({
                "title": str(getattr(o, "title", None) or getattr(o, "name", "") or o),
                "progress": _num(getattr(o, "progress", None)),
                "key_results": [{
                    "title": str(getattr(kr, "title", None) or getattr(kr, "name", "") or kr),
                    "current": _num(getattr(kr, "current_value", None)),
                    "target": _num(getattr(kr, "target_value", None)),
                    "progress": _num(getattr(kr, "progress", None)),
                } for kr in krs],
            })
    except (FieldError, AttributeError, TypeError) as exc:
        return _unavailable(f"Objectives could not be read ({type(exc).__name__}).")
    return {"available": True, "items": result}


# --- KPI health --------------------------------------------------------------------------------
_STATE_ATTRS = ("state", "status", "health", "health_state", "level")


def _state_of(value) -> str | None:
    """A health state from a string, a choices value, or an object carrying one."""
    if value is None:
        return None
    if isinstance(value, str):
        return value or None
    for attr in _STATE_ATTRS:
        inner = getattr(value, attr, None)
        if isinstance(inner, str) and inner:
            return inner
    return None


def _kpi_health_rows(kpis_: list) -> dict[int, str]:
    """Latest state per KPI from metrics.KpiHealth when that model exists (one query)."""
    KpiHealth = _model("metrics", "KpiHealth")
    if KpiHealth is None or not _has_field(KpiHealth, "kpi") or not kpis_:
        return {}
    order = ["kpi_id", "-evaluated_at" if _has_field(KpiHealth, "evaluated_at") else "-id"]
    states: dict[int, str] = {}
    try:
        for row in KpiHealth.objects.filter(kpi_id__in=[k.id for k in kpis_]).order_by(*order):
            state = _state_of(row)
            if state and row.kpi_id not in states:
                states[row.kpi_id] = state
    except (FieldError, AttributeError, TypeError):
        return {}
    return states


def _kpi_state(kpi, health: dict[int, str] | None = None) -> str:
    """The health the metrics app computed, if any; else the current value against the target."""
    if health and kpi.id in health:
        return health[kpi.id]
    for attr in ("health", "health_state", "state"):
        try:
            state = _state_of(getattr(kpi, attr, None))
        except Exception:  # a missing one-to-one row raises DoesNotExist
            state = None
        if state and state != "unknown":  # "unknown": metrics has not evaluated it yet
            return state
    if kpi.current_value is None or kpi.target_value is None:
        return "unknown"
    if kpi.direction == "lower":
        return "on_track" if kpi.current_value <= kpi.target_value else "off_track"
    return "on_track" if kpi.current_value >= kpi.target_value else "off_track"


def kpis(*, products, today: date, previous: dict | None) -> dict:
    Kpi = _model("metrics", "Kpi")
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
    Release = _model("roadmaps", "Release")
    rows = list(Release.objects.filter(product__in=products).select_related("product").order_by("release_date", "id"))
    items = []
    for r in rows:
        overdue = r.status != "released" and r.release_date is not None and r.release_date < today
        items.append({"name": r.name, "product": r.product.name, "status": r.status,
                      "status_label": r.get_status_display(), "release_date": _iso(r.release_date),
                      "overdue": overdue})
    return {"available": True, "upcoming": [i for i in items if i["status"] != "released"],
            "released": [i for i in items if i["status"] == "released"][-5:]}


# --- top of the backlog ---------------------------------------------------------------------------
def backlog(*, products, today: date, previous: dict | None) -> dict:
    Story = _model("backlog", "Story")
    qs = Story.objects.filter(product__in=products).exclude(status__in=DONE_STORY_STATUSES).select_related("product")
    if _has_field(Story, "rank"):
        order, basis = ["rank", "id"], "rank"
    elif _has_field(Story, "score"):
        from django.db.models import F

        order, basis = [F("score").desc(nulls_last=True), "id"], "score"
    else:
        order, basis = ["id"], "creation order"
    rows = list(qs.order_by(*order)[:BACKLOG_TOP])
    return {"available": True, "ordered_by": basis, "items": [
        {"id": s.id, "title": s.title, "product": s.product.name, "status": s.status, "points": s.points,
         "score": _num(getattr(s, "score", None))} for s in rows]}


# --- action plans ----------------------------------------------------------------------------------
def action_plans(*, products, today: date, previous: dict | None) -> dict:
    ActionPlan = _model("metrics", "ActionPlan")
    if ActionPlan is None:
        return _unavailable("Action plans are not set up yet.")
    try:
        if _has_field(ActionPlan, "kpi"):
            qs = ActionPlan.objects.filter(kpi__product__in=products).select_related("kpi")
        else:
            qs = ActionPlan.objects.filter(product__in=products)
        if _has_field(ActionPlan, "status"):
            qs = qs.exclude(status__in=("done", "closed", "cancelled"))
        rows = list(qs.order_by("id")[:50])
    except FieldError as exc:
        return _unavailable(f"Action plans could not be read ({type(exc).__name__}).")
    items = []
    for p in rows:
        kpi = getattr(p, "kpi", None)
        items.append({"title": str(getattr(p, "title", None) or getattr(p, "summary", None) or p),
                      "kpi": kpi.name if kpi is not None else "", "status": str(getattr(p, "status", "") or ""),
                      "due_date": _iso(getattr(p, "due_date", None))})
    return {"available": True, "items": items}


SECTIONS = {
    "roadmap": roadmap,
    "objectives": objectives,
    "kpis": kpis,
    "releases": releases,
    "backlog": backlog,
    "action_plans": action_plans,
}
