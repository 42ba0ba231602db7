def panels(request, workspace) -> list[dict]:
    """Panels this app adds to the workspace home page (see pmhub/home.py): KPI health summary."""
    from .selectors import health_summary, open_plans_count

    summary = health_summary(workspace=workspace)
    if not summary["total"]:
        return []
    return [{"title": "KPI health", "template": "metrics/_home_panel.html",
             "context": {"summary": summary, "open_plans": open_plans_count(workspace=workspace),
                         "ws": workspace.slug}}]
