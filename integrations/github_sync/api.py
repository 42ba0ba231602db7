"""REST API of GitHub Apps and the GitHub issue sync (workspace admins). An issue sync is created
here (a connection of kind github and its link in one call); afterwards it is read, changed, tested,
retried and deleted through jira-connections / jira-links / jira-issue-links / jira-sync-log, the one
sync engine's endpoints (docs/decisions/1720)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from pmhub.access import workspace_ids_for
from pmhub.api import fields as bounded
from pmhub.api.base import CRUD_MIXINS, ScopedViewSet, member_workspace
from pmhub.api.serializers import version_field
from pmhub.models import Role

from ..jira.api import (
    ADMIN_ACTIONS,
    JiraConnectionCreatedSerializer,
    JiraConnectionSerializer,
    RuleSerializer,
    _admin_of,
)
from ..jira.models import JiraProjectLink
from . import services
from .models import GitHubApp, GitHubInstallation


class GitHubInstallationSerializer(serializers.ModelSerializer):
    repositories = serializers.SlugRelatedField(many=True, read_only=True, slug_field="full_name")

    class Meta:
        model = GitHubInstallation
        fields = ["id", "installation_id", "account_login", "repositories", "created_at"]
        read_only_fields = fields


class GitHubAppSerializer(serializers.ModelSerializer):
    """An App as the API shows it: never its private key or webhook secret."""

    webhook_url = serializers.SerializerMethodField()
    installations = GitHubInstallationSerializer(many=True, read_only=True)

    class Meta:
        model = GitHubApp
        fields = [
            "id",
            "workspace",
            "name",
            "app_id",
            "api_url",
            "product",
            "merge_status",
            "webhook_url",
            "installations",
            "last_delivery_at",
            "version",
            "created_at",
        ]
        read_only_fields = fields

    def get_webhook_url(self, obj) -> str:
        return settings.SITE_URL + reverse("github_app_webhook", kwargs={"hook_token": obj.hook_token})


class GitHubAppWriteSerializer(serializers.Serializer):
    workspace = bounded.IntegerField(help_text="Id of the workspace (create only).")
    name = serializers.CharField(max_length=120)
    app_id = bounded.IntegerField(help_text="The App ID from the App's settings page (create only).")
    private_key = serializers.CharField(
        max_length=10000,
        write_only=True,
        help_text="The App's private key (.pem); stored encrypted, never returned. On update, leave out to keep it.",
    )
    webhook_secret = serializers.CharField(
        max_length=200, write_only=True, help_text="The App's webhook secret; stored encrypted, never returned."
    )
    product = bounded.IntegerField(help_text="Id of the product new installations' repositories connect to.")
    merge_status = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    api_url = serializers.CharField(max_length=300, required=False, default=services.DEFAULT_API)
    version = version_field()


class GitHubIssueSyncWriteSerializer(serializers.Serializer):
    workspace = bounded.IntegerField()
    product = bounded.IntegerField()
    repository = serializers.CharField(max_length=141, help_text="owner/name")
    token = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        default="",
        write_only=True,
        help_text="A fine-grained token with Issues read and write; or give installation.",
    )
    installation = bounded.IntegerField(required=False, help_text="Id of a GitHub App installation (PMHub's id).")
    api_url = serializers.CharField(max_length=300, required=False, default=services.DEFAULT_API)
    field_rules = serializers.DictField(child=RuleSerializer(), required=False)
    logins = serializers.DictField(child=serializers.CharField(max_length=39), required=False,
                                   help_text="Who is who: member e-mail -> GitHub login (assignees).")
    on_delete = serializers.ChoiceField(
        choices=JiraProjectLink.OnDelete.choices, required=False, default=JiraProjectLink.OnDelete.UNLINK
    )


class GitHubIssueSyncCreatedSerializer(JiraConnectionCreatedSerializer):
    link = serializers.IntegerField(read_only=True)

    class Meta(JiraConnectionCreatedSerializer.Meta):
        fields = JiraConnectionCreatedSerializer.Meta.fields + ["link"]
        read_only_fields = fields


def _product(user, workspace, product_id):
    from roadmaps.models import Product

    product = Product.objects.alive().filter(id=product_id, workspace_id__in=workspace_ids_for(user)).first()
    if product is None or product.workspace_id != workspace.id:
        raise ValidationError({"product": "Choose a product of this workspace."})
    return product


class GitHubAppViewSet(ScopedViewSet, *CRUD_MIXINS):
    """GitHub Apps recorded in a workspace (admins), with their installations and repositories. The
    private key and webhook secret are write-only. `issue-sync` starts a two-way issue sync."""

    serializer_class = GitHubAppSerializer
    write_serializer_class = GitHubAppWriteSerializer
    action_roles = dict.fromkeys(ADMIN_ACTIONS, Role.ADMIN) | {"issue_sync": Role.ADMIN}
    filterset_fields = ["workspace", "product"]
    ordering_fields = ["name", "id", "created_at"]

    def base_queryset(self):
        qs = GitHubApp.objects.prefetch_related("installations__repositories").order_by("name", "id")
        if self.action == "list":
            qs = qs.filter(workspace_id__in=_admin_of(self.request.user))
        return qs

    @extend_schema(request=GitHubAppWriteSerializer, responses={201: GitHubAppSerializer})
    def create(self, request, *args, **kwargs):
        serializer = GitHubAppWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        workspace = member_workspace(request.user, data["workspace"])
        app = services.app_create(
            user=request.user,
            workspace=workspace,
            name=data["name"],
            app_id=data["app_id"],
            private_key=data["private_key"],
            webhook_secret=data["webhook_secret"],
            product=_product(request.user, workspace, data["product"]),
            merge_status=data.get("merge_status", ""),
            api_url=data["api_url"],
        )
        return Response(GitHubAppSerializer(app).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=GitHubAppWriteSerializer, responses=GitHubAppSerializer)
    def update(self, request, *args, **kwargs):
        app = self.get_object()
        serializer = GitHubAppWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = {
            k: v
            for k, v in serializer.validated_data.items()
            if k in ("name", "private_key", "webhook_secret", "merge_status", "api_url")
        }
        if "product" in serializer.validated_data:
            data["product"] = _product(request.user, app.workspace, serializer.validated_data["product"])
        app = services.app_update(user=request.user, app=app, data=data, version=self.expected_version(app))
        return Response(GitHubAppSerializer(app).data)

    def perform_destroy(self, instance):
        services.app_delete(user=self.request.user, app=instance)


class GitHubIssueSyncViewSet(ScopedViewSet):
    """Start syncing a repository's issues with a product (admins): a fine-grained token or an App
    installation of the workspace. The answer is the new connection, with its webhook URL and the
    webhook secret (shown this once), and its link's id."""

    serializer_class = JiraConnectionSerializer  # the create response adds the secret, shown this once
    write_serializer_class = GitHubIssueSyncWriteSerializer
    action_roles = {"create": Role.ADMIN}
    http_method_names = ["post", "options"]

    def base_queryset(self):
        from ..jira.models import JiraConnection

        return JiraConnection.objects.filter(kind=JiraConnection.Kind.GITHUB).order_by("id")

    @extend_schema(request=GitHubIssueSyncWriteSerializer, responses={201: GitHubIssueSyncCreatedSerializer})
    def create(self, request, *args, **kwargs):
        serializer = GitHubIssueSyncWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        workspace = member_workspace(request.user, data["workspace"])
        installation = None
        if data.get("installation") is not None:
            installation = GitHubInstallation.objects.filter(id=data["installation"], app__workspace=workspace).first()
            if installation is None:
                raise Http404("Not found.")
        connection, link, secret = services.issue_sync_create(
            user=request.user,
            workspace=workspace,
            product=_product(request.user, workspace, data["product"]),
            repository=data["repository"],
            token=data.get("token", ""),
            installation=installation,
            api_url=data["api_url"],
            field_rules={k: dict(v) for k, v in (data.get("field_rules") or {}).items()},
            on_delete=data["on_delete"],
        )
        connection.secret, connection.link = secret, link.id
        return Response(GitHubIssueSyncCreatedSerializer(connection).data, status=status.HTTP_201_CREATED)
