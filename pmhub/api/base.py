"""The one base for API views: querysets scoped to the user's workspaces, roles per action.

    class StoryViewSet(ScopedViewSet, *CRUD_MIXINS):
        workspace_field = "product__workspace"
        action_roles = CRUD_ROLES | {"move": Role.EDITOR}   # or write_roles(Role.ADMIN) | {...}

        def base_queryset(self): return selectors.stories(...)

A foreign id is simply not in the queryset (404); a role below the action's is a 403; an
action missing from `action_roles` is refused (deny by default).
"""

from django.http import Http404
from rest_framework import mixins, viewsets
from rest_framework.generics import get_object_or_404

from ..access import workspace_ids_for
from ..models import Role, Workspace
from ..utils import version_read
from .conditional import conditional_list_response
from .permissions import WorkspaceRole
from .throttling import check_throttles_at

AUTHENTICATED = 0  # any signed-in user (e.g. creating a first workspace)
READ_ROLES = {"list": Role.VIEWER, "retrieve": Role.VIEWER}
# The mixins of a full CRUD resource, in ModelViewSet's order: `class X(ScopedViewSet, *CRUD_MIXINS)`.
CRUD_MIXINS = (
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    mixins.ListModelMixin,
)


def write_roles(role) -> dict:
    """action_roles of a CRUD resource: viewers read, `role` creates, updates and deletes."""
    return READ_ROLES | {"create": role, "update": role, "partial_update": role, "destroy": role}


CRUD_ROLES = write_roles(Role.EDITOR)


def plain_rows(qs):
    """`qs` without its prefetches and after-fetch figures: the same rows, columns, joins and
    annotations, for an object that only the checks and a service read (ScopedViewSet.plain_object_actions)."""
    qs = qs.prefetch_related(None)
    return qs.without_after_fetch() if hasattr(qs, "without_after_fetch") else qs


def member_workspace(user, workspace_id) -> Workspace:
    """The workspace a request body names, when the user is a member of it; otherwise 404 (a
    workspace you are not in does not exist for you). Roles are checked by the view."""
    if workspace_id not in workspace_ids_for(user):
        raise Http404("Not found.")
    return Workspace.objects.get(id=workspace_id)


class ScopedViewSet(viewsets.GenericViewSet):
    permission_classes = [WorkspaceRole]
    workspace_field = "workspace"
    action_roles: dict = {}
    # Write actions whose answer is read afresh after the write (`_read` and the like) or is not
    # the object: their object is read for the checks (another workspace's id 404, a role below
    # the action's 403, both before the body is validated) and for the service, without the detail
    # queryset's prefetches and after-fetch figures, which only an answer reads (decision 2230).
    # A body that fails validation then costs one query for the object instead of the detail read.
    plain_object_actions: frozenset = frozenset()

    def initial(self, request, *args, **kwargs):
        # The per-address and per-token limits apply before authentication (one Redis round
        # trip), so guessing tokens or calling anonymously is throttled too (DRF would answer 401
        # before ever counting them). A session caller's per-user limit follows authentication.
        check_throttles_at(self, request, authenticated=False)
        super().initial(request, *args, **kwargs)

    def check_throttles(self, request):
        check_throttles_at(self, request, authenticated=True)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if getattr(self, "action", None) == "list":
            return conditional_list_response(request, response)
        return response

    def expected_version(self, obj) -> int:
        """The `version` the client read, from the request body, for the update service: required
        on every update of an object that carries one. Missing or stale is a 409 with the current
        state, raised by the service's version_claim / versioned_update after its own permission
        checks (so a viewer still gets 403 first)."""
        body = self.request.data if hasattr(self.request.data, "get") else {}
        return version_read(body.get("version"))

    def base_queryset(self):
        if self.queryset is None:
            raise NotImplementedError("Define base_queryset() or queryset.")
        return self.queryset.all()

    def get_object(self):
        if getattr(self, "action", None) not in self.plain_object_actions:
            return super().get_object()
        # DRF's get_object over the plain rows of the same scoped, filtered queryset.
        queryset = plain_rows(self.filter_queryset(self.get_queryset()))
        lookup_url_kwarg = self.lookup_url_kwarg or self.lookup_field
        obj = get_object_or_404(queryset, **{self.lookup_field: self.kwargs[lookup_url_kwarg]})
        self.check_object_permissions(self.request, obj)
        return obj

    def get_queryset(self):
        qs = self.base_queryset()
        if getattr(self, "swagger_fake_view", False):
            return qs.none()
        return self.scoped(qs, workspace_ids_for(self.request.user))

    def scoped(self, qs, workspace_ids):
        """`qs` limited to objects of these workspaces (get_queryset: the user's)."""
        lookup = "id__in" if self.workspace_field in ("id", "pk") else f"{self.workspace_field}__in"
        return qs.filter(**{lookup: workspace_ids})

    def workspace_id_of(self, obj) -> int:
        if self.workspace_field in ("id", "pk"):
            return obj.pk
        parts = self.workspace_field.split("__")
        for part in parts[:-1]:
            obj = getattr(obj, part)
        return getattr(obj, f"{parts[-1]}_id")

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update") and hasattr(self, "write_serializer_class"):
            return self.write_serializer_class
        return super().get_serializer_class()
