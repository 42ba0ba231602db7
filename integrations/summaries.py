"""What a chat message says about an event: a headline ("Story updated"), the object's title, a few
facts formatted for people (pmhub.formatting: status labels from the workflow, plurals, dates), and
an absolute link to its page (SITE_URL). Built once when the event is emitted and stored on the
delivery, so every retry posts the same message (as report runs mail the same content).

`product_id` says which product the event belongs to (None: the workspace), so a channel of one
product hears only its own product's events.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from pmhub import formatting

HEADLINES = {
    "story.created": "Story created", "story.updated": "Story updated", "story.moved": "Story moved",
    "story.commented": "New comment on a story", "story.criteria_changed": "Acceptance criteria changed",
    "epic.created": "Epic created", "epic.updated": "Epic updated",
    "initiative.changed": "Initiative changed", "kpi.created": "KPI created",
    "kpi.health_changed": "KPI health changed", "release.scope_changed": "Release scope changed",
    "report.published": "Progress report published", "channel.test": "Test message",
}


def _abs(name: str, **kwargs) -> str:
    try:
        return settings.SITE_URL + reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return settings.SITE_URL + "/"


def _headline(event: str) -> str:
    return HEADLINES.get(event) or formatting.status_label(event.replace(".", " "))


def _workflow_labels(product) -> dict:
    from backlog.selectors import settings_of

    return {s["key"]: s["label"] for s in settings_of(product).workflow}


def summary_for(*, workspace, event: str, payload: dict) -> dict:
    """{"headline", "title", "facts": [[label, value]], "context", "url", "product_id"} for one event."""
    ws = workspace.slug
    home = _abs("workspace_home", ws=ws)
    summary = {"headline": _headline(event), "title": str(payload.get("title") or payload.get("name") or ""),
               "facts": [], "context": workspace.name, "url": home, "product_id": payload.get("product_id")}
    if event.startswith("story."):
        from backlog.models import Story

        story = Story.objects.select_related("product").filter(id=payload.get("id"),
                                                                product__workspace=workspace).first()
        if story is not None:
            labels = _workflow_labels(story.product)
            summary.update(title=story.title, product_id=story.product_id,
                           url=_abs("backlog:story", ws=ws, product_id=story.product_id, story_id=story.id),
                           context=f"{story.product.name} · {workspace.name}")
            summary["facts"] = [["Status", formatting.status_label(story.status, labels)]]
            if story.points is not None:
                summary["facts"].append(["Estimate", formatting.plural(story.points, "point")])
            if event == "story.criteria_changed" and isinstance(payload.get("total"), int):
                summary["facts"].append(["Acceptance criteria", f"{payload.get('done', 0)} of {payload['total']} done"])
    elif event.startswith("epic."):
        from backlog.models import Epic

        epic = Epic.objects.select_related("product").filter(id=payload.get("id"), product__workspace=workspace).first()
        if epic is not None:
            summary.update(title=epic.title, product_id=epic.product_id,
                           url=_abs("backlog:epic", ws=ws, product_id=epic.product_id, epic_id=epic.id),
                           context=f"{epic.product.name} · {workspace.name}",
                           facts=[["Status", formatting.status_label(epic.status)]])
    elif event == "initiative.changed":
        state = payload.get("initiative") or {}
        product_id = state.get("product")
        summary.update(title=str(state.get("title") or ""), product_id=product_id,
                       facts=[["Change", formatting.status_label(payload.get("action"))],
                              ["Status", formatting.status_label(state.get("status"))]])
        if state.get("end_date"):
            summary["facts"].append(["Ends", formatting.date(state["end_date"])])
        if product_id and payload.get("action") != "deleted":
            summary["url"] = _abs("roadmaps:initiative", ws=ws, product_id=product_id, initiative_id=state.get("id"))
    elif event.startswith("kpi."):
        from metrics.models import Kpi

        kpi = Kpi.objects.select_related("product").filter(id=payload.get("kpi") or payload.get("id"),
                                                            product__workspace=workspace).first()
        if kpi is not None:
            summary.update(title=kpi.name, product_id=kpi.product_id,
                           url=_abs("metrics_kpi_detail", ws=ws, product_id=kpi.product_id, kpi_id=kpi.id),
                           context=f"{kpi.product.name} · {workspace.name}")
            if event == "kpi.health_changed":
                summary["facts"] = [["Was", formatting.status_label(payload.get("from"))],
                                    ["Now", formatting.status_label(payload.get("to"))],
                                    ["Current value", formatting.kpi_value(kpi.current_value, kpi.unit)]]
    elif event == "release.scope_changed":
        from roadmaps.models import Release

        release = Release.objects.filter(id=payload.get("release_id"), product__workspace=workspace).first()
        if release is not None:
            summary.update(title=release.name, product_id=release.product_id,
                           url=_abs("roadmaps:release", ws=ws, product_id=release.product_id, release_id=release.id),
                           facts=[["Scope", formatting.plural(payload.get("total_points") or 0, "point")]])
    elif event == "report.published":
        summary.update(url=str(payload.get("url") or home),
                       facts=[["Period", str(payload.get("period_label") or payload.get("period") or "")]])
    return summary
