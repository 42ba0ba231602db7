def panels(request, workspace) -> list[dict]:
    """Panels this app adds to the workspace home page (see pmhub/home.py): the latest report runs."""
    from .models import ReportRun

    runs = list(ReportRun.objects.filter(subscription__workspace=workspace).select_related("subscription")
                .defer("data", "subscription__sections").order_by("-created_at", "-id")[:5])
    if not runs:
        return []
    return [{"title": "Recent reports", "template": "reports/_home_panel.html",
             "context": {"runs": runs, "ws": workspace.slug}}]
