"""REST API of the Jira integration (workspace admins): connections (the token write-only, the
webhook secret in the create response only), project links (field rules, status maps, import
preview/run, push), the mapping table and the sync log. Registered by integrations.api.routes."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from pmhub.access import roles_of, workspace_ids_for
from pmhub.api import fields as bounded
from pmhub.api.base import CRUD_MIXINS, ScopedViewSet, member_workspace
from pmhub.api.serializers import version_field
from pmhub.models import Role

from . import services
from .mapping import DIRECTION_CHOICES, RULE_CHOICES
from .models import SYNC_FIELDS, JiraConnection, JiraIssueMap, JiraOutbox, JiraProjectLink, JiraSyncLog

ADMIN_ACTIONS = ("list", "retrieve", "create", "update", "partial_update", "destroy")


def _admin_of(user) -> list[int]:
    return [ws for ws, role in roles_of(user).items() if role >= Role.ADMIN]


class JiraConnectionSerializer(serializers.ModelSerializer):
    """A connection as the API shows it: never its token or webhook secret."""

    # Empty for Data Center and GitHub connections: a plain string, not an e-mail in the schema.
    email = serializers.CharField(read_only=True, help_text="Jira Cloud: the account's e-mail; empty otherwise.")
    queue_length = serializers.SerializerMethodField()
    webhook_url = serializers.SerializerMethodField()

    class Meta:
        model = JiraConnection
        fields = ["id", "workspace", "name", "kind", "base_url", "email", "health", "account_name",
                  "last_success_at", "last_failure_at", "failures_in_row", "last_error", "queue_length",
                  "webhook_url", "version", "created_at"]
        read_only_fields = fields

    def get_queue_length(self, obj) -> int:
        return JiraOutbox.objects.filter(link__connection=obj, status=JiraOutbox.Status.PENDING).count()

    def get_webhook_url(self, obj) -> str:
        name = "github_issues_webhook" if obj.kind == JiraConnection.Kind.GITHUB else "jira_webhook"
        return settings.SITE_URL + reverse(name, kwargs={"hook_token": obj.hook_token})


class JiraConnectionCreatedSerializer(JiraConnectionSerializer):
    """The create response: the only time the webhook secret is shown."""

    secret = serializers.CharField(read_only=True)

    class Meta(JiraConnectionSerializer.Meta):
        fields = JiraConnectionSerializer.Meta.fields + ["secret"]
        read_only_fields = fields


class JiraConnectionWriteSerializer(serializers.Serializer):
    workspace = bounded.IntegerField(help_text="Id of the workspace (create only).")
    kind = serializers.ChoiceField(choices=JiraConnection.Kind.choices, help_text="Create only.")
    name = serializers.CharField(max_length=120)
    base_url = serializers.CharField(max_length=300)
    email = serializers.CharField(max_length=254, required=False, allow_blank=True, default="")
    token = serializers.CharField(max_length=2000, write_only=True,
                                  help_text="API token (Cloud) or personal access token (Data Center); stored "
                                            "encrypted, never returned. On update, leave out to keep it.")
    version = version_field()


class RuleSerializer(serializers.Serializer):
    direction = serializers.ChoiceField(choices=DIRECTION_CHOICES)
    rule = serializers.ChoiceField(choices=RULE_CHOICES)


class JiraProjectLinkSerializer(serializers.ModelSerializer):
    workspace = serializers.IntegerField(source="connection.workspace_id", read_only=True)
    field_rules = serializers.SerializerMethodField()

    class Meta:
        model = JiraProjectLink
        fields = ["id", "workspace", "connection", "product", "project_key", "project_id", "story_issue_type",
                  "epic_issue_type", "field_rules", "status_in", "status_out", "remote_statuses", "points_field",
                  "jql", "on_delete", "active", "preview", "reconciled_at", "version", "created_at"]
        read_only_fields = fields

    def get_field_rules(self, obj) -> dict:
        return {r["field"]: {"direction": r["direction"], "rule": r["rule"]} for r in services.rules_table(obj)}


class JiraProjectLinkWriteSerializer(serializers.Serializer):
    connection = bounded.IntegerField(help_text="Id of the Jira connection (create only).")
    product = bounded.IntegerField(help_text="Id of the product (create only).")
    project_key = serializers.CharField(max_length=140, help_text="Create only. Jira: ENG; GitHub: owner/name.")
    story_issue_type = serializers.CharField(max_length=60, required=False)
    epic_issue_type = serializers.CharField(max_length=60, required=False)
    field_rules = serializers.DictField(child=RuleSerializer(), required=False,
                                       help_text=f"Per field ({', '.join(SYNC_FIELDS)}): direction and rule.")
    status_in = serializers.DictField(child=serializers.CharField(max_length=30), required=False,
                                      help_text="Jira status id -> workflow status key (overrides).")
    status_out = serializers.DictField(child=serializers.CharField(max_length=20), required=False,
                                       help_text="Workflow status key -> Jira status id (overrides).")
    jql = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    on_delete = serializers.ChoiceField(choices=JiraProjectLink.OnDelete.choices, required=False)
    active = serializers.BooleanField(required=False)
    version = version_field()


class JiraIssueMapSerializer(serializers.ModelSerializer):
    class Meta:
        model = JiraIssueMap
        fields = ["id", "link", "remote_id", "remote_key", "story", "epic", "remote_updated", "synced_at",
                  "unlinked_at"]
        read_only_fields = fields


class JiraSyncLogSerializer(serializers.ModelSerializer):
    outbox_status = serializers.CharField(source="outbox.status", read_only=True, allow_null=True, default=None)

    class Meta:
        model = JiraSyncLog
        fields = ["id", "connection", "link", "at", "direction", "story", "object_label", "remote_key", "fields",
                  "result", "error", "detail", "outbox", "outbox_status"]
        read_only_fields = fields


class RetrySerializer(serializers.Serializer):
    outbox = serializers.ListField(child=bounded.IntegerField(), required=False, max_length=1000,
                                   help_text="Ids of failed outbox rows; leave out for every failed one.")


class QueuedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    count = serializers.IntegerField(required=False)


class JiraConnectionViewSet(ScopedViewSet, *CRUD_MIXINS):
    """Jira connections of a workspace (admins). The token is write-only; the webhook secret is in
    the create response only."""

    serializer_class = JiraConnectionSerializer
    write_serializer_class = JiraConnectionWriteSerializer
    action_roles = dict.fromkeys(ADMIN_ACTIONS, Role.ADMIN) | {"test": Role.ADMIN, "retry": Role.ADMIN}
    filterset_fields = ["workspace", "kind", "health"]
    ordering_fields = ["name", "id", "created_at"]

    def base_queryset(self):
        qs = JiraConnection.objects.order_by("name", "id")
        if self.action == "list":
            qs = qs.filter(workspace_id__in=_admin_of(self.request.user))
        return qs

    @extend_schema(request=JiraConnectionWriteSerializer, responses={201: JiraConnectionCreatedSerializer})
    def create(self, request, *args, **kwargs):
        serializer = JiraConnectionWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        workspace = member_workspace(request.user, data["workspace"])
        connection, secret = services.connection_create(
            user=request.user, workspace=workspace, kind=data["kind"], name=data["name"],
            base_url=data["base_url"], email=data.get("email", ""), token=data["token"])
        connection.secret = secret
        return Response(JiraConnectionCreatedSerializer(connection).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=JiraConnectionWriteSerializer, responses=JiraConnectionSerializer)
    def update(self, request, *args, **kwargs):
        connection = self.get_object()
        serializer = JiraConnectionWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = {k: v for k, v in serializer.validated_data.items() if k in ("name", "base_url", "email", "token")}
        connection = services.connection_update(user=request.user, connection=connection, data=data,
                                                version=self.expected_version(connection))
        return Response(JiraConnectionSerializer(connection).data)

    def perform_destroy(self, instance):
        services.connection_delete(user=self.request.user, connection=instance)

    @extend_schema(request=None, responses={202: QueuedSerializer})
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        """Queue a connection test: its answer (user and projects, or the reason) appears on the
        connection (`health`, `account_name`, `last_error`) and in the log."""
        services.connection_test_queue(user=request.user, connection=self.get_object())
        return Response({"detail": "Testing the connection."}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=RetrySerializer, responses={202: QueuedSerializer})
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        """Queue failed outbound changes again."""
        serializer = RetrySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        count = services.outbox_retry(user=request.user, connection=self.get_object(),
                                      outbox_ids=serializer.validated_data.get("outbox"))
        return Response({"detail": "Queued again.", "count": count}, status=status.HTTP_202_ACCEPTED)


class JiraProjectLinkViewSet(ScopedViewSet, *CRUD_MIXINS):
    """Products linked to Jira projects (admins): field rules, status maps, import and push."""

    serializer_class = JiraProjectLinkSerializer
    write_serializer_class = JiraProjectLinkWriteSerializer
    workspace_field = "connection__workspace"
    action_roles = dict.fromkeys(ADMIN_ACTIONS, Role.ADMIN) | {
        "preview": Role.ADMIN, "run_import": Role.ADMIN, "push": Role.ADMIN}
    filterset_fields = ["connection", "product", "active"]
    ordering_fields = ["project_key", "id", "created_at"]

    def base_queryset(self):
        qs = JiraProjectLink.objects.select_related("connection").order_by("project_key", "id")
        if self.action == "list":
            qs = qs.filter(connection__workspace_id__in=_admin_of(self.request.user))
        return qs

    @extend_schema(request=JiraProjectLinkWriteSerializer, responses={201: JiraProjectLinkSerializer})
    def create(self, request, *args, **kwargs):
        from roadmaps.models import Product

        serializer = JiraProjectLinkWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        scope = workspace_ids_for(request.user)
        connection = JiraConnection.objects.filter(id=data["connection"], workspace_id__in=scope).first()
        if connection is None:
            raise Http404("Not found.")
        product = Product.objects.alive().filter(id=data["product"], workspace_id__in=scope).first()
        if product is None:
            raise ValidationError({"product": "Unknown product."})
        extra = {k: data[k] for k in ("story_issue_type", "epic_issue_type", "jql", "field_rules", "on_delete")
                 if k in data}
        if "field_rules" in extra:
            extra["field_rules"] = {k: dict(v) for k, v in extra["field_rules"].items()}
        link = services.link_create(user=request.user, connection=connection, product=product,
                                    project_key=data["project_key"], **extra)
        return Response(JiraProjectLinkSerializer(link).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=JiraProjectLinkWriteSerializer, responses=JiraProjectLinkSerializer)
    def update(self, request, *args, **kwargs):
        link = self.get_object()
        serializer = JiraProjectLinkWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = {k: v for k, v in serializer.validated_data.items()
                if k not in ("connection", "product", "project_key", "version")}
        if "field_rules" in data:
            data["field_rules"] = {k: dict(v) for k, v in data["field_rules"].items()}
        link = services.link_update(user=request.user, link=link, data=data, version=self.expected_version(link))
        return Response(JiraProjectLinkSerializer(link).data)

    def perform_destroy(self, instance):
        services.link_delete(user=self.request.user, link=instance)

    @extend_schema(request=None, responses={202: QueuedSerializer})
    @action(detail=True, methods=["post"])
    def preview(self, request, pk=None):
        """Queue an import preview by the link's JQL: `preview` then shows create / link / skip."""
        services.import_preview_queue(user=request.user, link=self.get_object())
        return Response({"detail": "Preview queued."}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: QueuedSerializer})
    @action(detail=True, methods=["post"], url_path="import")
    def run_import(self, request, pk=None):
        """Import what the preview showed (idempotent: a re-run creates nothing twice)."""
        services.import_run_queue(user=request.user, link=self.get_object())
        return Response({"detail": "Import queued."}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: QueuedSerializer})
    @action(detail=True, methods=["post"])
    def push(self, request, pk=None):
        """Create an issue for every story of the product that has none yet."""
        count = services.push_existing(user=request.user, link=self.get_object())
        return Response({"detail": "Stories queued.", "count": count}, status=status.HTTP_202_ACCEPTED)


class JiraIssueMapViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """The mapping table: which Jira issue each story is linked to (admins)."""

    serializer_class = JiraIssueMapSerializer
    workspace_field = "link__connection__workspace"
    action_roles = {"list": Role.ADMIN, "retrieve": Role.ADMIN}
    filterset_fields = ["link", "story", "epic", "remote_key"]
    ordering_fields = ["synced_at", "id"]

    def base_queryset(self):
        qs = JiraIssueMap.objects.order_by("-synced_at", "-id")
        if self.action == "list":
            qs = qs.filter(link__connection__workspace_id__in=_admin_of(self.request.user))
        return qs


class JiraSyncLogViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Every outbound and inbound change of the Jira sync, newest first (admins)."""

    serializer_class = JiraSyncLogSerializer
    workspace_field = "connection__workspace"
    action_roles = {"list": Role.ADMIN, "retrieve": Role.ADMIN}
    filterset_fields = ["connection", "link", "direction", "result", "story"]
    ordering_fields = ["at", "id"]

    def base_queryset(self):
        qs = JiraSyncLog.objects.select_related("outbox").order_by("-at", "-id")
        if self.action == "list":
            qs = qs.filter(connection__workspace_id__in=_admin_of(self.request.user))
        return qs
