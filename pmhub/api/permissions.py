"""Deny by default. A view states the role each action needs in `action_roles`; an action
it does not name is refused, so a forgotten permission shows up as a 403, never as a leak."""

from rest_framework import permissions

from ..access import role_in, roles_of


class DenyAll(permissions.BasePermission):
    """The project default: a view that declares nothing refuses everything."""

    def has_permission(self, request, view):
        return False


class WorkspaceRole(permissions.BasePermission):
    """Checks `view.action_roles[action]` against the user's role in the object's workspace.

    At list/create time the user must hold the role in at least one workspace (the service
    checks the exact workspace of a new object). At object time, the object's workspace counts;
    objects outside the user's workspaces never get here (the queryset is scoped: 404).
    """

    message = "Your role in this workspace does not allow this."

    def _needed(self, view):
        roles = getattr(view, "action_roles", None) or {}
        return roles.get(getattr(view, "action", None) or request_method_action(view))

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        if request.method not in permissions.SAFE_METHODS and _read_only_token(request):
            self.message = "This API token is read-only."
            return False
        if getattr(view, "action", "") is None:
            return True  # a method the route does not offer: DRF answers 405, nothing to protect
        needed = self._needed(view)
        if needed is None:
            return False
        if needed == 0:
            return True
        roles = roles_of(request.user).values()
        return any(r >= needed for r in roles)

    def has_object_permission(self, request, view, obj):
        needed = self._needed(view)
        if needed is None:
            return False
        role = role_in(request.user, view.workspace_id_of(obj))
        return role is not None and role >= needed


def _read_only_token(request) -> bool:
    from ..models import ApiToken

    return isinstance(request.auth, ApiToken) and request.auth.scope == ApiToken.Scope.READ


def request_method_action(view):
    request = getattr(view, "request", None)
    return request.method.lower() if request is not None else None
