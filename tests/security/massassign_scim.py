"""Mass-assignment walk entries of the scim app (format: Write in massassign.py)."""

from .massassign import Write
from .matrix_scim import _group, _token

WRITES = {
    # Only `workspace` and `name` are read; key_hash, prefix, created_by, revoked_at, last_used_at and
    # the id are set by the service (the walk sends hostile values for each).
    "scim-token": Write(build=_token, bodies={"create": lambda t: {"workspace": t.workspace_id, "name": "Entra ID"}}),
    # Only the role is written through the API; name, members and externalId belong to the provider.
    "scim-group": Write(build=_group, bodies={"update": lambda g: {"role": 20, "version": g.version}},
                        changes={"update": {"role"}, "partial_update": {"role"}}),
}
