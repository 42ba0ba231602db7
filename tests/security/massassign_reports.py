"""Mass-assignment walk entries of the reports app (format: Write in massassign.py)."""

from . import matrix_reports as m
from .massassign import Write

WRITES = {
    "report-subscription": Write(bodies={
        "create": lambda s: {"workspace": s.workspace_id, "name": "Board", "emails": ["cfo@outside.test"]},
        "update": lambda s: {"version": s.version, "workspace": s.workspace_id, "name": "Renamed"},
        "preview_new": lambda s: {"workspace": s.workspace_id, "sections": ["kpis"]},
        "send_now": lambda s: {}}),
    "webhook-endpoint": Write(build=m._endpoint, bodies={
        "create": lambda e: {"workspace": e.workspace_id, "url": "https://hooks.acme.test/two",
                             "events": ["story.created"]},
        "update": lambda e: {"version": e.version, "workspace": e.workspace_id, "url": "https://hooks.acme.test/in",
                             "events": ["story.updated"], "description": "Renamed"}}),
    "notification-preference": Write(exempt={
        "update": "per-user settings keyed by kind, no tenant object: tested in test_mass_assignment_reports.py",
        "partial_update": "as update"}),
}
