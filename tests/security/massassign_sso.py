"""Mass-assignment walk entries of the sso app (format: Write in massassign.py)."""

from . import matrix_sso as m
from .massassign import Write

WRITES = {
    "sso-provider": Write(build=m._provider, bodies={
        "create": lambda p: {"workspace": p.workspace_id, "name": "Second", "protocol": "oidc",
                             "issuer": "https://second.example.com", "client_id": "second", "client_secret": "s",
                             "group_roles": [{"group": "admins", "role": 30}]},
        "update": lambda p: {"version": p.version, "name": "Renamed", "client_secret": "new-secret"}},
        # A new client secret is sealed anew (never to the value sent as `client_secret_sealed`).
        changes={"update": {"client_secret_sealed"}, "partial_update": {"client_secret_sealed"}}),
    "sso-domain": Write(build=m._domain, bodies={
        "create": lambda d: {"workspace": d.workspace_id, "domain": "second.example.com"},
        "update": lambda d: {"version": d.version, "require_sso": True}},
        exempt={"verify": "Takes no body (request=None) and succeeds only when the domain's DNS answers with its "
                          "TXT record; a body is ignored: tests/sso/test_api.py "
                          "(test_admin_claims_verifies_and_requires_a_domain)."}),
}
