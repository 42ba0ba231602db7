"""Mass-assignment walk entries of the integrations app (format: Write in massassign.py)."""

from . import matrix_integrations as m
from .massassign import Write

WRITES = {
    "channel": Write(build=m._channel, bodies={
        "create": lambda c: {"workspace": c.workspace_id, "kind": "teams", "name": "#two",
                             "url": "https://acme.webhook.office.com/webhookb2/x", "events": ["story.created"]},
        "update": lambda c: {"version": c.version, "workspace": c.workspace_id, "name": "#renamed",
                             "events": ["story.updated"]},
        "send_test": lambda c: {}}),
    "github-repository": Write(build=m._repository, bodies={
        "create": lambda r: {"product": r.product_id, "full_name": "acme/second", "merge_status": ""},
        "update": lambda r: {"version": r.version, "merge_status": "", "token": "github_pat_new"}}),
}
