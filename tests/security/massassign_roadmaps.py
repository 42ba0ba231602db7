"""Mass-assignment walk entries of the roadmaps app (format: Write in massassign.py).

Objects come from the tenancy matrix's builders (matrix_roadmaps.py); the bodies are valid writes,
so a refusal in the walk is always one of the hostile fields.
"""

from roadmaps.models import Capability, Initiative

from . import matrix_roadmaps as m
from .massassign import Write


def _initiative_in(product, title):
    return Initiative.objects.create(product=product, title=title)


def _epic_in(product, **links):
    from backlog.models import Epic

    return Epic.objects.create(product=product, title="Work", **links)


def _two_free_initiatives(dependency):
    product = dependency.blocker.product
    return {"blocker": _initiative_in(product, "Blocker").id, "blocked": _initiative_in(product, "Blocked").id}


WRITES = {
    "product": Write(
        bodies={"create": lambda p: {"workspace": p.workspace_id, "name": "New product"},
                "update": lambda p: {"version": p.version, "name": "Renamed", "vision": "Decide."},
                "restore": lambda p: {}},
        builds={"restore": m._deleted_product},
        changes={"restore": {"deleted_at"}}),
    "segment": Write(bodies={"create": lambda s: {"product": s.product_id, "name": "Teams"},
                             "update": lambda s: {"version": s.version, "product": s.product_id, "name": "Renamed"}}),
    "competitor": Write(bodies={
        "create": lambda c: {"product": c.product_id, "name": "Rival"},
        "update": lambda c: {"version": c.version, "product": c.product_id, "name": "Renamed"},
        "rate": lambda c: {"capability": Capability.objects.create(product=c.product, name="Speed").id,
                           "level": "partial"}}),
    "capability": Write(bodies={"create": lambda c: {"product": c.product_id, "name": "Exports", "ours": "yes"},
                                "update": lambda c: {"version": c.version, "product": c.product_id, "name": "Renamed", "ours": "no"}}),
    "objective": Write(bodies={"create": lambda o: {"product": o.product_id, "title": "Grow", "quarter": "2027-Q1"},
                               "update": lambda o: {"version": o.version, "product": o.product_id, "title": "Renamed", "quarter": "2027-Q1"}}),
    "key-result": Write(bodies={
        "create": lambda k: {"objective": k.objective_id, "title": "NPS", "target_value": "50"},
        "update": lambda k: {"version": k.version, "objective": k.objective_id, "title": "Renamed", "target_value": "300"}}),
    "initiative": Write(bodies={"create": lambda i: {"product": i.product_id, "title": "New initiative"},
                                "update": lambda i: {"title": "Renamed", "version": i.version},
                                "move": lambda i: {"version": i.version, "horizon": "next", "rank": 2.5},
                                "take": lambda i: {"epics": [_epic_in(i.product).id]},
                                "release_work": lambda i: {"epics": [_epic_in(i.product, initiative=i).id]}}),
    "dependency": Write(bodies={"create": _two_free_initiatives}),
    "release": Write(
        bodies={"create": lambda r: {"product": r.product_id, "name": "2.0"},
                "update": lambda r: {"version": r.version, "product": r.product_id, "name": "Renamed"},
                "scope": lambda r: {"initiatives": [_initiative_in(r.product, "In scope").id]},
                "ship": lambda r: {}},
        changes={"ship": {"released_at"}}),
    "snapshot": Write(build=m._snapshot, bodies={"create": lambda s: {"product": s.product_id, "name": "Q1 plan"}}),
    "share-link": Write(bodies={"create": lambda s: {"product": s.product_id, "label": "Board", "days": 3,
                                                     "view": "board", "filters": {"horizon": "now"},
                                                     "allow_present": True}}),
}
