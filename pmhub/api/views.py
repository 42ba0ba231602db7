import django_filters
from django.db.models import Count, Q
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from .. import services
from ..access import workspace_ids_for
from ..models import Activity, BackgroundJob, Notification, Role, Workspace
from ..search import MAX_QUERY_LENGTH, search, search_words, searchables
from . import fields as bounded
from .base import AUTHENTICATED, READ_ROLES, ScopedViewSet
from .pagination import CursorPagination
from .serializers import (
    ActivitySerializer,
    JobSerializer,
    MemberSerializer,
    NotificationSerializer,
    WorkspaceSerializer,
    WorkspaceWriteSerializer,
)


class WorkspaceViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                       mixins.UpdateModelMixin):
    """Workspaces you are a member of (with an API token: only the token's workspace)."""

    workspace_field = "id"
    serializer_class = WorkspaceSerializer
    write_serializer_class = WorkspaceWriteSerializer
    action_roles = READ_ROLES | {
        "create": AUTHENTICATED,
        "update": Role.ADMIN,
        "partial_update": Role.ADMIN,
        "members": Role.VIEWER,
    }

    def base_queryset(self):
        return Workspace.objects.annotate(member_count=Count("memberships", distinct=True)).order_by("name")

    @extend_schema(request=WorkspaceWriteSerializer, responses={201: WorkspaceSerializer})
    def create(self, request, *args, **kwargs):
        data = dict(self._valid(WorkspaceWriteSerializer, request.data))
        data.pop("version", None)
        workspace = services.workspace_create(user=request.user, **data)
        return Response(self._read(workspace), status=status.HTTP_201_CREATED)

    @extend_schema(request=WorkspaceWriteSerializer, responses=WorkspaceSerializer)
    def update(self, request, *args, **kwargs):
        workspace = self.get_object()
        data = self._valid(WorkspaceWriteSerializer, request.data, partial=kwargs.get("partial", False))
        services.workspace_update(user=request.user, workspace=workspace, name=data.get("name", workspace.name),
                                  time_zone=data.get("time_zone", workspace.time_zone),
                                  version=self.expected_version(workspace))
        return Response(self._read(workspace))

    @extend_schema(responses=MemberSerializer(many=True))
    @action(detail=True, methods=["get"])
    def members(self, request, pk=None):
        workspace = self.get_object()
        qs = workspace.memberships.select_related("user").order_by("user__email")
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(MemberSerializer(page, many=True).data)

    def _valid(self, serializer_class, data, partial=False):
        serializer = serializer_class(data=data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _read(self, workspace):
        workspace = self.base_queryset().get(pk=workspace.pk)
        return WorkspaceSerializer(workspace, context={"request": self.request}).data


class ActivityFilter(django_filters.FilterSet):
    # A plain number, not a choice of all workspaces: an unknown or foreign id gives an empty
    # list, never a 400 that would tell which workspace ids exist.
    workspace = django_filters.NumberFilter(field_name="workspace_id")

    class Meta:
        model = Activity
        fields = ["workspace", "verb"]


class JobFilter(django_filters.FilterSet):
    workspace = django_filters.NumberFilter(field_name="workspace_id")

    class Meta:
        model = BackgroundJob
        fields = ["workspace", "kind", "status"]


class ActivityViewSet(ScopedViewSet, mixins.ListModelMixin):
    """The activity log of your workspaces, newest first. Filter with `?workspace=<id>`."""

    serializer_class = ActivitySerializer
    action_roles = {"list": Role.VIEWER}
    pagination_class = CursorPagination
    filterset_class = ActivityFilter

    def base_queryset(self):
        return Activity.objects.select_related("actor", "target_type")


class NotificationViewSet(ScopedViewSet, mixins.ListModelMixin):
    """Your own notifications; `POST .../mark_read/` with `{"ids": [...]}` (or none for all)."""

    serializer_class = NotificationSerializer
    action_roles = {"list": AUTHENTICATED, "mark_read": AUTHENTICATED}
    filterset_fields = ["kind"]

    queryset = Notification.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        # An API token sees its own workspace only: notifications of the owner's other workspaces stay out.
        return Notification.objects.filter(Q(workspace__isnull=True) | Q(workspace_id__in=workspace_ids_for(
            self.request.user)), recipient=self.request.user)

    class MarkReadSerializer(serializers.Serializer):
        ids = serializers.ListField(child=bounded.IntegerField(), required=False)

    @extend_schema(request=MarkReadSerializer, responses={200: dict})
    @action(detail=False, methods=["post"])
    def mark_read(self, request):
        s = self.MarkReadSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        count = services.notifications_mark_read(user=request.user, ids=s.validated_data.get("ids"),
                                                 workspace_ids=workspace_ids_for(request.user))
        return Response({"marked": count})


class JobViewSet(ScopedViewSet, mixins.RetrieveModelMixin, mixins.ListModelMixin):
    """Progress of background work (re-scoring, imports)."""

    serializer_class = JobSerializer
    action_roles = READ_ROLES
    filterset_class = JobFilter

    def base_queryset(self):
        return BackgroundJob.objects.all()


class SearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(max_length=MAX_QUERY_LENGTH, trim_whitespace=True,
                              help_text="Words to find; the last one matches as a prefix.")
    kind = serializers.MultipleChoiceField(choices=[], required=False,
                                           help_text="Only these kinds (repeat the parameter).")
    limit = bounded.IntegerField(min_value=1, max_value=20, default=5, help_text="Hits per kind.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(s.kind, s.label) for s in searchables()]

    def validate_q(self, value):
        if not search_words(value):
            raise serializers.ValidationError("Type a word to search for.")
        return value


class SearchHitSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    title = serializers.CharField()
    subtitle = serializers.CharField()
    url = serializers.CharField()
    rank = bounded.FloatField()


class SearchViewSet(ScopedViewSet):
    """Search products, initiatives, epics, stories, KPIs, insights and people in your workspaces,
    ranked (title matches first); at most `limit` hits of each kind (pmhub.search)."""

    action_roles = {"list": Role.VIEWER}
    pagination_class = None
    # Not a model list (hits come from pmhub.search); the schema generator still asks for a queryset.
    queryset = Workspace.objects.none()

    @extend_schema(parameters=[SearchQuerySerializer], responses=SearchHitSerializer(many=True))
    def list(self, request):
        params = SearchQuerySerializer(data={"q": request.query_params.get("q", ""),
                                             "kind": request.query_params.getlist("kind"),
                                             "limit": request.query_params.get("limit", 5)})
        params.is_valid(raise_exception=True)
        data = params.validated_data
        hits = search(user=request.user, q=data["q"], per_kind=data["limit"], kinds=sorted(data.get("kind") or []))
        return Response(SearchHitSerializer(hits, many=True).data)
