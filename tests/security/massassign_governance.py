"""Mass-assignment walk entries of the governance app (format: Write in massassign.py)."""

from . import matrix_governance as m
from .massassign import Write

WRITES = {
    "risk": Write(build=m._risk, bodies={
        "create": lambda r: {"product": r.product_id, "title": "Churn spike", "likelihood": 2, "impact": 3},
        "update": lambda r: {"title": "Renamed", "impact": 2, "version": r.version},
        "notes": lambda r: {"text": "Agreed a workaround."}},
        # The score is likelihood x impact, recomputed from the impact this body sends.
        changes={"update": {"score"}, "partial_update": {"score"}}),
    "risk-appetite": Write(build=m._appetite, bodies={
        "create": lambda a: {"product": m._product(a.product.workspace).id, "risk_appetite": 10},
        "update": lambda a: {"risk_appetite": 10, "version": a.version}}),
}
