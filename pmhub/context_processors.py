from .access import memberships_of
from .models import Role
from .navigation import NavLink, admin_links, workspace_links, workspace_url
from .selectors import unread_count, unread_count_and_live_seq

LAST_WORKSPACE_KEY = "pmhub_last_workspace"


def navigation(request):
    """Workspace switcher, current workspace and unread count for base.html: the switcher reuses
    the memberships every access check loaded, the unread count is cached (pmhub.selectors). Every
    URL of the frame comes from a route reversed once per process (pmhub.navigation); the fixed
    ones are base.html's `{% frame_parts as frame %}` (pmhub.frame)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def lazy():
        workspaces = memberships_of(user)
        current = getattr(request, "workspace", None)
        match = getattr(request, "resolver_match", None)
        if current is None:
            slug = (match and match.kwargs.get("ws")) or None
            current = next((w for w in workspaces if w.slug == slug), None)
        session = getattr(request, "session", None)
        if current is not None and session is not None and session.get(LAST_WORKSPACE_KEY) != current.slug:
            session[LAST_WORKSPACE_KEY] = current.slug
        elif current is None and not (match and "ws" in match.kwargs):
            # Pages outside a workspace (notifications, API tokens) keep the menu of the workspace
            # the person came from, so nobody is left without navigation.
            last = session.get(LAST_WORKSPACE_KEY) if session is not None else None
            current = next((w for w in workspaces if w.slug == last), workspaces[0] if workspaces else None)
        role = next((w.role for w in workspaces if current is not None and w.id == current.id), None)
        view_name = match.view_name if match else ""
        current_role = Role(role) if role is not None else None
        if current is not None:  # the count and the page's live sequence in one round trip (decision 2350)
            unread, live_seq = unread_count_and_live_seq(user=user, workspace_id=current.id)
        else:
            unread, live_seq = unread_count(user=user), "0"
        return {
            "workspaces": workspaces,
            "current_workspace": current,
            "current_role": current_role,
            "unread_notifications": unread,
            "live_seq": live_seq,
            "links": workspace_links(view_name=view_name, workspace_slug=current.slug) if current else [],
            # The switcher: each workspace's home, the current one marked.
            "switcher": [NavLink(w.name, workspace_url("workspace_home", w.slug), current is not None
                                 and w.id == current.id) for w in workspaces] if current else [],
            "admin_links": admin_links(workspace_slug=current.slug)
            if current is not None and current_role is not None and current_role >= Role.ADMIN else [],
            "live_poll": workspace_url("live_poll", current.slug) if current else "",
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
