from django.db.models import F

from pmhub.clock import today_in

from . import selectors


def panels(request, workspace) -> list[dict]:
    """Current iterations of the workspace, with committed points against capacity."""
    today = today_in(workspace.time_zone)
    current = list(selectors.iterations_for_user(user=request.user)
                   .filter(product__workspace=workspace, start_date__lte=today, end_date__gte=today)
                   .annotate(over=F("committed_points") - F("capacity_points")).order_by("end_date")[:10])
    if not current:
        return []
    return [{"title": "Current iterations", "template": "delivery/_home_panel.html",
             "context": {"iterations": current, "workspace": workspace}}]
