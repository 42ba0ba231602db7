from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.response import Response

from pmhub.access import roles_of
from pmhub.api.base import ScopedViewSet, member_workspace
from pmhub.models import Role

from .. import services
from ..models import ScimToken
from .serializers import ScimTokenCreatedSerializer, ScimTokenSerializer, ScimTokenWriteSerializer


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
            qs = qs.filter(workspace_id__in=[ws for ws, role in roles_of(self.request.user).items()
                                             if role >= Role.ADMIN])
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
