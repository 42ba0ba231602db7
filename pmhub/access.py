"""Tenancy: which workspaces a user (or the API token in use) may see, and with what role.

Every selector starts from `workspace_ids_for(user)`; every service calls `require_role`.
An object in a workspace the user is not a member of is a 404 (no existence leak); a member
whose role is too low gets a 403. See docs/decisions/0001-tenancy.md.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from .models import ApiToken, Membership, Role

_CACHE_ATTR = "_pmhub_roles"
TOKEN_ATTR = "_pmhub_token"


def roles_of(user) -> dict[int, int]:
    """{workspace_id: role} for the user, cached on the user object (one query per request).

    When the request authenticated with an API token, only the token's workspace is visible,
    and a read-only token caps the role at viewer.
    """
    if user is None or not user.is_authenticated:
        return {}
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    token: ApiToken | None = getattr(user, TOKEN_ATTR, None)
    memberships = Membership.objects.filter(user_id=user.pk)
    if token is not None:
        memberships = memberships.filter(workspace_id=token.workspace_id)
    roles = dict(memberships.values_list("workspace_id", "role"))
    if token is not None and token.scope == ApiToken.Scope.READ:
        roles = {ws: min(role, Role.VIEWER) for ws, role in roles.items()}
    setattr(user, _CACHE_ATTR, roles)
    return roles


def forget_roles(user) -> None:
    """Drop the cached roles (after a membership change in the same request)."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def workspace_ids_for(user) -> list[int]:
    return list(roles_of(user))


def role_in(user, workspace_id: int) -> int | None:
    return roles_of(user).get(workspace_id)


def require_role(*, user, workspace_id: int, role: int = Role.EDITOR) -> int:
    """Raise Http404 for a non-member and PermissionDenied for a member below `role`."""
    current = role_in(user, workspace_id)
    if current is None:
        raise Http404("Not found.")
    if current < role:
        raise PermissionDenied(f"This needs the {Role(role).label.lower()} role in this workspace.")
    return current


def can(user, workspace_id: int, role: int) -> bool:
    current = role_in(user, workspace_id)
    return current is not None and current >= role
