from django.core.exceptions import ValidationError
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from pmhub.access import roles_of, workspace_ids_for
from pmhub.api.base import CRUD_MIXINS, ScopedViewSet, member_workspace
from pmhub.models import Role
from roadmaps.selectors import product_of_workspace

from .. import services
from ..models import Channel, PullRequestLink, Repository
from .serializers import (
    ChannelDeliverySerializer,
    ChannelSerializer,
    ChannelWriteSerializer,
    GitHubDeliverySerializer,
    PullRequestLinkSerializer,
    RepositoryCreatedSerializer,
    RepositorySerializer,
    RepositoryWriteSerializer,
)


def _valid(data, partial=False) -> dict:
    serializer = ChannelWriteSerializer(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


_workspace = member_workspace


def _product(workspace, product_id):
    product = product_of_workspace(workspace, product_id)
    if product is None and product_id is not None:
        raise ValidationError({"product": "Unknown product."})
    return product


class ChannelViewSet(ScopedViewSet, *CRUD_MIXINS):
    """Slack and Microsoft Teams channels of a workspace (admins). The URL is write-only."""

    serializer_class = ChannelSerializer
    action_roles = {"list": Role.ADMIN, "retrieve": Role.ADMIN, "create": Role.ADMIN, "update": Role.ADMIN,
                    "partial_update": Role.ADMIN, "destroy": Role.ADMIN, "deliveries": Role.ADMIN,
                    "send_test": Role.ADMIN}
    filterset_fields = ["workspace", "product", "kind"]
    ordering_fields = ["name", "id", "created_at"]

    def base_queryset(self):
        qs = Channel.objects.select_related("endpoint").order_by("name", "id")
        if self.action == "list":  # only the workspaces where the user is an admin
            admin_of = [ws for ws, role in roles_of(self.request.user).items() if role >= Role.ADMIN]
            qs = qs.filter(workspace_id__in=admin_of)
        return qs

    def _read(self, channel):
        return ChannelSerializer(self.base_queryset().get(pk=channel.pk)).data

    @extend_schema(request=ChannelWriteSerializer, responses={201: ChannelSerializer})
    def create(self, request, *args, **kwargs):
        data = _valid(request.data)
        workspace = _workspace(request.user, data["workspace"])
        channel = services.channel_create(user=request.user, workspace=workspace, kind=data["kind"],
                                          name=data["name"], url=data["url"], events=data["events"],
                                          product=_product(workspace, data.get("product")))
        return Response(self._read(channel), status=status.HTTP_201_CREATED)

    @extend_schema(request=ChannelWriteSerializer, responses=ChannelSerializer)
    def update(self, request, *args, **kwargs):
        channel = self.get_object()
        data = _valid(request.data, partial=True)
        data.pop("workspace", None)
        data.pop("kind", None)
        data.pop("version", None)
        if "product" in data:
            data["product"] = _product(channel.workspace, data["product"])
        channel = services.channel_update(user=request.user, channel=channel, data=data,
                                          version=self.expected_version(channel))
        return Response(self._read(channel))

    def perform_destroy(self, instance):
        services.channel_delete(user=self.request.user, channel=instance)

    @extend_schema(responses=ChannelDeliverySerializer(many=True))
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        channel = self.get_object()
        page = self.paginate_queryset(channel.endpoint.deliveries.order_by("-created_at", "-id"))
        return self.get_paginated_response(ChannelDeliverySerializer(page, many=True).data)

    @extend_schema(request=None, responses={202: ChannelDeliverySerializer})
    @action(detail=True, methods=["post"], url_path="send-test")
    def send_test(self, request, pk=None):
        """Queue a test message; its outcome appears in the delivery log."""
        delivery = services.channel_test_send(user=request.user, channel=self.get_object())
        return Response(ChannelDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class RepositoryViewSet(ScopedViewSet, *CRUD_MIXINS):
    """GitHub repositories connected to products (admins). The webhook secret is in the connect
    response only; the optional token is write-only."""

    serializer_class = RepositorySerializer
    write_serializer_class = RepositoryWriteSerializer
    action_roles = {"list": Role.ADMIN, "retrieve": Role.ADMIN, "create": Role.ADMIN, "update": Role.ADMIN,
                    "partial_update": Role.ADMIN, "destroy": Role.ADMIN, "deliveries": Role.ADMIN}
    filterset_fields = ["workspace", "product"]
    ordering_fields = ["full_name", "id", "created_at"]

    def base_queryset(self):
        qs = Repository.objects.order_by("full_name", "id")
        if self.action == "list":
            admin_of = [ws for ws, role in roles_of(self.request.user).items() if role >= Role.ADMIN]
            qs = qs.filter(workspace_id__in=admin_of)
        return qs

    @extend_schema(request=RepositoryWriteSerializer, responses={201: RepositoryCreatedSerializer})
    def create(self, request, *args, **kwargs):
        from django.conf import settings
        from django.urls import reverse

        serializer = RepositoryWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        from roadmaps.models import Product

        product = Product.objects.alive().filter(id=data["product"], workspace_id__in=workspace_ids_for(
            request.user)).first()
        if product is None:
            raise Http404("Not found.")
        repository, secret = services.repository_connect(user=request.user, product=product,
                                                         full_name=data["full_name"],
                                                         merge_status=data.get("merge_status", ""),
                                                         token=data.get("token", ""))
        repository.secret = secret
        repository.payload_url = settings.SITE_URL + reverse("github_webhook",
                                                             kwargs={"hook_token": repository.hook_token})
        return Response(RepositoryCreatedSerializer(repository).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RepositoryWriteSerializer, responses=RepositorySerializer)
    def update(self, request, *args, **kwargs):
        repository = self.get_object()
        serializer = RepositoryWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = {k: v for k, v in serializer.validated_data.items() if k in ("merge_status", "token")}
        repository = services.repository_update(user=request.user, repository=repository, data=data,
                                                version=self.expected_version(repository))
        return Response(RepositorySerializer(repository).data)

    def perform_destroy(self, instance):
        services.repository_disconnect(user=self.request.user, repository=instance)

    @extend_schema(responses=GitHubDeliverySerializer(many=True))
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        repository = self.get_object()
        page = self.paginate_queryset(repository.deliveries.order_by("-received_at", "-id"))
        return self.get_paginated_response(GitHubDeliverySerializer(page, many=True).data)


class PullRequestLinkViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Pull requests linked to stories (every member may read them, as on the story page)."""

    serializer_class = PullRequestLinkSerializer
    workspace_field = "repository__workspace"
    action_roles = {"list": Role.VIEWER, "retrieve": Role.VIEWER}
    filterset_fields = ["story", "repository", "state"]
    ordering_fields = ["updated_at", "id", "number"]

    def base_queryset(self):
        return PullRequestLink.objects.select_related("repository").order_by("-updated_at", "-id")
