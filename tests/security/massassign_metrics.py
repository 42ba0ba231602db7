"""Mass-assignment walk entries of the metrics app (format: Write in massassign.py)."""

from tests.metrics.factories import KpiFactory

from . import matrix_metrics as m
from .massassign import Write

WRITES = {
    "kpi": Write(bodies={"create": lambda k: {"product": k.product_id, "name": "Activation"},
                         "update": lambda k: {"name": "Renamed", "version": k.version}}),
    "measurement": Write(bodies={
        "create": lambda x: {"kpi": x.kpi_id, "period": "2026-11-09", "value": "7"},
        "bulk": lambda x: {"items": [{"kpi": x.kpi_id, "period": "2026-11-16", "value": "8"}]}}),
    "action-plan": Write(build=m._plan, bodies={
        "create": lambda p: {"kpi": KpiFactory(product=p.kpi.product).id, "title": "Win them back"},
        "update": lambda p: {"version": p.version, "title": "Renamed", "steps": "- call"}}),
}
