from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.response import Response

from pmhub.access import roles_of
from pmhub.api.base import ScopedViewSet, member_workspace
from pmhub.models import Role

from .. import services
from ..models import ScimGroup, ScimToken
from .serializers import (
    ScimGroupSerializer,
    ScimGroupWriteSerializer,
    ScimTokenCreatedSerializer,
    ScimTokenSerializer,
    ScimTokenWriteSerializer,
)


def _admin_of(user) -> list[int]:
    return [ws for ws, role in roles_of(user).items() if role >= Role.ADMIN]


class ScimTokenViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                       mixins.DestroyModelMixin):
    """SCIM tokens of your workspaces (admins): create one (its key is in that response only), list,
    and revoke with DELETE (the row stays, with `revoked_at`)."""

    serializer_class = ScimTokenSerializer
    action_roles = {"list": Role.ADMIN, "retrieve": Role.ADMIN, "create": Role.ADMIN, "destroy": Role.ADMIN}
    filterset_fields = ["workspace"]
    ordering_fields = ["created_at", "id", "name"]

    def base_queryset(self):
        qs = ScimToken.objects.order_by("-created_at", "-id")
        if self.action == "list":  # only the workspaces where the user is an admin
            qs = qs.filter(workspace_id__in=_admin_of(self.request.user))
        return qs

    @extend_schema(request=ScimTokenWriteSerializer, responses={201: ScimTokenCreatedSerializer})
    def create(self, request, *args, **kwargs):
        serializer = ScimTokenWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        workspace = member_workspace(request.user, data["workspace"])
        token, raw = services.scim_token_create(user=request.user, workspace=workspace, name=data["name"])
        token.token = raw
        return Response(ScimTokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs):
        services.scim_token_revoke(user=request.user, token=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class ScimGroupViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin):
    """Groups your identity provider pushed (admins): map one to a role with PUT/PATCH `{"role": 20,
    "version": n}` (null for none); its members' roles follow at once. Names and members come from
    the provider only (/scim/v2/Groups)."""

    serializer_class = ScimGroupSerializer
    action_roles = {"list": Role.ADMIN, "retrieve": Role.ADMIN, "update": Role.ADMIN, "partial_update": Role.ADMIN}
    filterset_fields = ["workspace", "role"]
    ordering_fields = ["display_name", "id", "created_at"]

    def base_queryset(self):
        from django.db.models import Count

        qs = ScimGroup.objects.annotate(member_count=Count("members")).order_by("display_name", "id")
        if self.action == "list":
            qs = qs.filter(workspace_id__in=_admin_of(self.request.user))
        return qs

    @extend_schema(request=ScimGroupWriteSerializer, responses=ScimGroupSerializer)
    def update(self, request, *args, **kwargs):
        group = self.get_object()
        serializer = ScimGroupWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.scim_group_set_role(user=request.user, group=group, role=serializer.validated_data["role"],
                                     version=self.expected_version(group))
        return Response(ScimGroupSerializer(self.base_queryset().get(pk=group.pk)).data)
