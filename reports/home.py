from pmhub.prepared import Prepared

from .models import ReportRun

# The latest runs of a workspace, compiled once per process (pmhub.prepared, decision 2120).
_LATEST_RUNS = Prepared(ReportRun, lambda workspace_id: (
    ReportRun.objects.filter(subscription__workspace_id=workspace_id).select_related("subscription")
    .defer("data", "subscription__sections").order_by("-created_at", "-id")[:5]))


def panels(request, workspace) -> list[dict]:
    """Panels this app adds to the workspace home page (see pmhub/home.py): the latest report runs."""
    runs = _LATEST_RUNS.objects(workspace.id)
    if not runs:
        return []
    return [{"title": "Recent reports", "template": "reports/_home_panel.html",
             "context": {"runs": runs, "ws": workspace.slug}}]
