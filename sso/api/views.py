from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from pmhub.access import roles_of
from pmhub.api.base import CRUD_MIXINS, ScopedViewSet, member_workspace
from pmhub.models import Role

from .. import services
from ..models import IdentityProvider, SsoDomain
from .serializers import (
    IdentityProviderSerializer,
    IdentityProviderWriteSerializer,
    SsoDomainSerializer,
    SsoDomainWriteSerializer,
)

ADMIN_ONLY = {"list": Role.ADMIN, "retrieve": Role.ADMIN, "create": Role.ADMIN, "update": Role.ADMIN,
              "partial_update": Role.ADMIN, "destroy": Role.ADMIN}


def _admin_of(user) -> list[int]:
    return [ws for ws, role in roles_of(user).items() if role >= Role.ADMIN]


def _valid(serializer_class, data, partial=False) -> dict:
    serializer = serializer_class(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class IdentityProviderViewSet(ScopedViewSet, *CRUD_MIXINS):
    """Identity providers of a workspace (admins only). The client secret is write-only."""

    serializer_class = IdentityProviderSerializer
    write_serializer_class = IdentityProviderWriteSerializer
    action_roles = ADMIN_ONLY
    filterset_fields = ["workspace", "protocol", "enabled"]
    ordering_fields = ["name", "id", "created_at"]

    def base_queryset(self):
        qs = IdentityProvider.objects.order_by("name", "id")
        if self.action == "list":  # only the workspaces where the user is an admin
            qs = qs.filter(workspace_id__in=_admin_of(self.request.user))
        return qs

    @extend_schema(request=IdentityProviderWriteSerializer, responses={201: IdentityProviderSerializer})
    def create(self, request, *args, **kwargs):
        data = _valid(IdentityProviderWriteSerializer, request.data)
        workspace = member_workspace(request.user, data.pop("workspace"))
        data.pop("version", None)
        secret = data.pop("client_secret", "")
        provider = services.provider_create(user=request.user, workspace_id=workspace.id, data=data,
                                            client_secret=secret)
        return Response(IdentityProviderSerializer(provider).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=IdentityProviderWriteSerializer, responses=IdentityProviderSerializer)
    def update(self, request, *args, **kwargs):
        provider = self.get_object()
        data = _valid(IdentityProviderWriteSerializer, request.data, partial=True)
        for key in ("workspace", "version"):
            data.pop(key, None)
        secret = data.pop("client_secret", None)
        provider = services.provider_update(user=request.user, provider=provider, data=data, client_secret=secret,
                                            expected_version=self.expected_version(provider))
        return Response(IdentityProviderSerializer(provider).data)

    def perform_destroy(self, instance):
        services.provider_delete(user=self.request.user, provider=instance)


class SsoDomainViewSet(ScopedViewSet, *CRUD_MIXINS):
    """Sign-in domains of a workspace (admins only): claim, verify by DNS TXT, require SSO."""

    serializer_class = SsoDomainSerializer
    write_serializer_class = SsoDomainWriteSerializer
    action_roles = ADMIN_ONLY | {"verify": Role.ADMIN}
    filterset_fields = ["workspace", "require_sso"]
    ordering_fields = ["domain", "id", "created_at"]

    def base_queryset(self):
        qs = SsoDomain.objects.order_by("domain", "id")
        if self.action == "list":
            qs = qs.filter(workspace_id__in=_admin_of(self.request.user))
        return qs

    @extend_schema(request=SsoDomainWriteSerializer, responses={201: SsoDomainSerializer})
    def create(self, request, *args, **kwargs):
        data = _valid(SsoDomainWriteSerializer, request.data)
        workspace = member_workspace(request.user, data["workspace"])
        domain = services.domain_create(user=request.user, workspace_id=workspace.id, domain=data["domain"],
                                        require_sso=data.get("require_sso", False))
        return Response(SsoDomainSerializer(domain).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=SsoDomainWriteSerializer, responses=SsoDomainSerializer)
    def update(self, request, *args, **kwargs):
        """Only `require_sso` changes; a domain is renamed by removing it and adding another."""
        domain = self.get_object()
        data = _valid(SsoDomainWriteSerializer, request.data, partial=True)
        domain = services.domain_update(user=request.user, domain=domain,
                                        require_sso=data.get("require_sso", domain.require_sso),
                                        expected_version=self.expected_version(domain))
        return Response(SsoDomainSerializer(domain).data)

    def perform_destroy(self, instance):
        services.domain_delete(user=self.request.user, domain=instance)

    @extend_schema(request=None, responses=SsoDomainSerializer)
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        """Look the domain's TXT records up now; 400 with what to publish when the record is not there."""
        domain = services.domain_verify(user=request.user, domain=self.get_object())
        return Response(SsoDomainSerializer(domain).data)
