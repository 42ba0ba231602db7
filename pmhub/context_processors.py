from django.db.models import Count, IntegerField, Subquery

from .access import roles_of
from .models import Notification, Role, Workspace


def navigation(request):
    """Workspace switcher, current workspace and unread count for base.html (two small queries)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def lazy():
        roles = roles_of(user)
        # One query for the switcher and the unread count (an uncorrelated subquery, run once).
        unread = (Notification.objects.filter(recipient=user, read_at__isnull=True).order_by()
                  .values("recipient").annotate(n=Count("*")).values("n"))
        workspaces = list(Workspace.objects.filter(id__in=list(roles))
                          .annotate(unread=Subquery(unread, output_field=IntegerField()))
                          .order_by("name").only("id", "name", "slug"))
        current = getattr(request, "workspace", None)
        if current is None:
            slug = (getattr(request, "resolver_match", None) and request.resolver_match.kwargs.get("ws")) or None
            current = next((w for w in workspaces if w.slug == slug), None)
        return {
            "workspaces": workspaces,
            "current_workspace": current,
            "current_role": Role(roles[current.id]) if current and current.id in roles else None,
            "unread_notifications": (workspaces[0].unread or 0) if workspaces
            else Notification.objects.filter(recipient=user, read_at__isnull=True).count(),
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
