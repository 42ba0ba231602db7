"""Demo data of the sso app: a disabled OpenID Connect provider (its issuer is on the reserved
`.example` domain, so nothing is ever fetched) and a claimed, unverified sign-in domain, so the
settings pages show something and nobody's sign-in changes. Idempotent."""

import secrets

from pmhub.models import Role
from pmhub.secretbox import seal

from .models import IdentityProvider, SsoDomain


def seed(*, workspace, users) -> None:
    owner = users.get("demo") or next(iter(users.values()), None)
    if not IdentityProvider.objects.filter(workspace=workspace, name="Acme Okta").exists():
        IdentityProvider.objects.create(
            workspace=workspace, name="Acme Okta", protocol=IdentityProvider.Protocol.OIDC, enabled=False,
            issuer="https://acme.okta.example", client_id="0oa-demo-client",
            client_secret_sealed=seal("demo-not-a-real-secret"), scopes="openid email profile groups",
            default_role=Role.VIEWER, group_roles=[{"group": "pmhub-admins", "role": Role.ADMIN},
                                                   {"group": "product-managers", "role": Role.EDITOR}],
            created_by=owner)
    SsoDomain.objects.get_or_create(workspace=workspace, domain="acme.example",
                                    defaults={"verification_token": secrets.token_urlsafe(24), "created_by": owner})
