"""Mass-assignment walk entries of the core app (format: Write in massassign.py)."""

from .massassign import Write

WRITES = {
    "workspace": Write(bodies={"create": lambda ws: {"name": "Mine", "time_zone": "UTC"},
                               "update": lambda ws: {"version": ws.version, "name": "Renamed", "time_zone": "UTC"}}),
    "notification": Write(exempt={
        "mark_read": "a user's own notifications, not an object of the workspace: ids of someone else's "
                     "notifications (and of another workspace) are tested in test_mass_assignment.py"}),
}
