from .access import memberships_of
from .models import Role
from .selectors import unread_count


def navigation(request):
    """Workspace switcher, current workspace and unread count for base.html: the switcher reuses
    the memberships every access check loaded, the unread count is cached (pmhub.selectors)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def lazy():
        workspaces = memberships_of(user)
        current = getattr(request, "workspace", None)
        if current is None:
            slug = (getattr(request, "resolver_match", None) and request.resolver_match.kwargs.get("ws")) or None
            current = next((w for w in workspaces if w.slug == slug), None)
        role = next((w.role for w in workspaces if current is not None and w.id == current.id), None)
        return {
            "workspaces": workspaces,
            "current_workspace": current,
            "current_role": Role(role) if role is not None else None,
            "unread_notifications": unread_count(user=user),
        }

    return {"nav": _Lazy(lazy)}


class _Lazy:
    """Evaluated only when a template touches `nav` (API responses never pay for it)."""

    def __init__(self, fn):
        self._fn, self._value = fn, None

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        if self._value is None:
            self._value = self._fn()
        try:
            return self._value[name]
        except KeyError:
            raise AttributeError(name)
