"""Tenancy: which workspaces a user (or the API token in use) may see, and with what role.

Every selector starts from `workspace_ids_for(user)`; every service calls `require_role`.
An object in a workspace the user is not a member of is a 404 (no existence leak); a member
whose role is too low gets a 403. See docs/decisions/0001-tenancy.md.
"""

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.http import Http404

from .models import ApiToken, Membership, Role, Workspace
from .prepared import Prepared

_CACHE_ATTR = "_pmhub_memberships"
TOKEN_ATTR = "_pmhub_token"


@dataclass(frozen=True)
class WorkspaceRef:
    """A workspace the user belongs to, as the navigation shows it, with the user's role."""

    id: int
    name: str
    slug: str
    role: int
    # The workspace's row (WORKSPACE_FIELDS), read with the membership: a page under /w/<slug>/
    # gets its Workspace from it without a query of its own (pmhub.selectors.workspace_for_user).
    # None when the refs came from elsewhere (the API-token cache).
    row: tuple | None = field(default=None, compare=False, repr=False)


# Every column of a workspace, in the model's order (Model.from_db takes them so).
WORKSPACE_FIELDS: tuple[str, ...] = tuple(f.attname for f in Workspace._meta.concrete_fields)
_ID, _NAME, _SLUG = (WORKSPACE_FIELDS.index(name) for name in ("id", "name", "slug"))


def _memberships(user_id, workspace_id=None):
    memberships = Membership.objects.filter(user_id=user_id)
    if workspace_id is not None:
        memberships = memberships.filter(workspace_id=workspace_id)
    return memberships.order_by("workspace__name", "workspace_id").values_list(
        "role", *(f"workspace__{name}" for name in WORKSPACE_FIELDS))


# The query of every signed-in request, compiled once per process (pmhub.prepared, decision 2001).
_MEMBERSHIPS = Prepared(Membership, lambda user_id, *_: _memberships(user_id))
_MEMBERSHIPS_OF_TOKEN = Prepared(Membership, lambda user_id, workspace_id, *_: _memberships(user_id, workspace_id))


def memberships_of(user) -> list[WorkspaceRef]:
    """The user's workspaces with their role, by name; one query per request (cached on the user
    object), shared by every access check and the workspace switcher.

    When the request authenticated with an API token, only the token's workspace is visible,
    and a read-only token caps the role at viewer.
    """
    if user is None or not user.is_authenticated:
        return []
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    token: ApiToken | None = getattr(user, TOKEN_ATTR, None)
    rows = (_MEMBERSHIPS.rows(user.pk) if token is None
            else _MEMBERSHIPS_OF_TOKEN.rows(user.pk, token.workspace_id))
    capped = token is not None and token.scope == ApiToken.Scope.READ
    refs = [WorkspaceRef(id=row[_ID], name=row[_NAME], slug=row[_SLUG],
                         role=min(role, Role.VIEWER) if capped else role, row=tuple(row))
            for role, *row in rows]
    setattr(user, _CACHE_ATTR, refs)
    return refs


def roles_of(user) -> dict[int, int]:
    """{workspace_id: role} for the user (see memberships_of)."""
    return {ref.id: ref.role for ref in memberships_of(user)}


def remember_memberships(user, refs: list[WorkspaceRef]) -> None:
    """Give the user object its memberships, known already (the API-token cache): no query."""
    setattr(user, _CACHE_ATTR, refs)


def forget_roles(user) -> None:
    """Drop the cached memberships (after a membership change in the same request)."""
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
