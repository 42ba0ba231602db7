from django.db.models import F

from pmhub.access import workspace_ids_for
from pmhub.clock import today_in
from pmhub.prepared import Prepared

from . import selectors
from .models import Iteration


def _current(workspace_ids, workspace_id, today):
    """What iterations_for_user reads, narrowed to the workspace's iterations running `today`."""
    return (selectors._with_points(Iteration.objects.filter(product__workspace_id__in=workspace_ids,
                                                            product__deleted_at__isnull=True))
            .filter(product__workspace_id=workspace_id, start_date__lte=today, end_date__gte=today)
            .annotate(over=F("committed_points") - F("capacity_points")).order_by("end_date")[:10])


# Compiled once per process and number of the reader's workspaces (pmhub.prepared, decision 2120).
_CURRENT = Prepared(Iteration, _current)


def panels(request, workspace) -> list[dict]:
    """Current iterations of the workspace, with committed points against capacity."""
    today = today_in(workspace.time_zone)
    current = _CURRENT.objects(list(workspace_ids_for(request.user)), workspace.id, today)
    if not current:
        return []
    return [{"title": "Current iterations", "template": "delivery/_home_panel.html",
             "context": {"iterations": current, "workspace": workspace}}]
