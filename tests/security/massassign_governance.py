"""Mass-assignment walk entries of the governance app (format: Write in massassign.py)."""

from . import matrix_governance as m
from .massassign import Write


def _draft(statement):
    type(statement).objects.filter(pk=statement.pk).update(status="draft")
    statement.refresh_from_db()
    return statement

WRITES = {
    "risk": Write(build=m._risk, bodies={
        "create": lambda r: {"product": r.product_id, "title": "Churn spike", "likelihood": 2, "impact": 3},
        "update": lambda r: {"title": "Renamed", "impact": 2, "version": r.version},
        "notes": lambda r: {"text": "Agreed a workaround."}},
        # The score is likelihood x impact, recomputed from the impact this body sends.
        changes={"update": {"score"}, "partial_update": {"score"}}),
    "impact-statement": Write(build=m._statement, bodies={
        "create": lambda s: {"initiative": m.InitiativeFactory(product=s.product).id, "benefit": "Fewer tickets"},
        "update": lambda s: {"benefit": "Revised", "version": s.version},
        "submit": lambda s: {"version": s.version},
        "decide": lambda s: {"decision": "approved", "comment": "ok", "version": s.version}},
        builds={"submit": lambda ws: _draft(m._statement(ws))},
        # A new revision and a decision change the status and revision number by design.
        changes={"update": {"revision", "status"}, "partial_update": {"revision", "status"},
                 "submit": {"status", "requested_by_id", "submitted_at"}, "decide": {"status"}}),
    "launch-item": Write(build=m._launch_item, bodies={
        "create": lambda i: {"release": i.release_id, "title": "Blog post", "category": "marketing"},
        "update": lambda i: {"title": "Renamed", "done": True, "version": i.version}},
        # Ticking sets who and when by design (to the caller and now, never to a value sent).
        changes={"update": {"done_at", "done_by_id"}, "partial_update": {"done_at", "done_by_id"}}),
    "launch-template": Write(build=m._template, bodies={
        "create": lambda t: {"workspace": t.workspace_id, "name": "Quick launch", "items": [{"title": "Blog"}]},
        "apply": lambda t: {"release": m._release(t.workspace).id}}),
    "portfolio-entry": Write(build=m._entry, bodies={
        "create": lambda e: {"initiative": m.InitiativeFactory(product=e.initiative.product).id, "value": 7},
        "update": lambda e: {"value": 8, "version": e.version},
        "decide": lambda e: {"decision": "fund", "reason": "Board said yes", "version": e.version}},
        changes={"decide": {"decision", "reason", "decided_by_id", "decided_at"}}),
    "stage-proposal": Write(build=m._proposal, bodies={"accept": lambda p: {}, "dismiss": lambda p: {}},
                            changes={"accept": {"status", "decided_by_id", "decided_at"},
                                     "dismiss": {"status", "decided_by_id", "decided_at"}}),
    "product-lifecycle": Write(build=m._product, bodies={
        "update": lambda p: {"stage": "maturity", "reason": "Flat", "version": 1}}),
    "risk-appetite": Write(build=m._appetite, bodies={
        "create": lambda a: {"product": m._product(a.product.workspace).id, "risk_appetite": 10},
        "update": lambda a: {"risk_appetite": 10, "version": a.version}}),
}
