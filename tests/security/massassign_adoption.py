"""Mass-assignment walk entries of the adoption app (format: Write in massassign.py)."""

from . import matrix_adoption as m
from .massassign import Write

WRITES = {
    "feature": Write(bodies={"create": lambda f: {"product": f.product_id, "key": "search.v2", "name": "Search"},
                             "update": lambda f: {"version": f.version, "name": "Renamed", "target_percent": "30"}}),
    "ingestion-key": Write(build=m._key, bodies={"create": lambda k: {"product": k.product_id, "name": "CI"}}),
    "event": Write(exempt={"bulk": "authenticated by a product's ingestion key, not a user: the foreign-product "
                                   "body is tested in test_mass_assignment_adoption.py"}),
}
