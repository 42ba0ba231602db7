def panels(request, workspace) -> list[dict]:
    """Panels this app adds to the workspace home page (see pmhub/home.py): KPI health summary."""
    from .models import ActionPlan
    from .selectors import health_summary

    summary = health_summary(workspace=workspace)
    if not summary["total"]:
        return []
    open_plans = ActionPlan.objects.filter(kpi__product__workspace=workspace).exclude(
        status=ActionPlan.Status.CLOSED).count()
    return [{"title": "KPI health", "template": "metrics/_home_panel.html",
             "context": {"summary": summary, "open_plans": open_plans, "ws": workspace.slug}}]
