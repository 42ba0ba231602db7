from django.core.exceptions import ValidationError
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from pmhub.access import roles_of, workspace_ids_for
from pmhub.api.base import CRUD_MIXINS, ScopedViewSet
from pmhub.models import Role, Workspace

from .. import services
from ..models import Channel
from .serializers import ChannelDeliverySerializer, ChannelSerializer, ChannelWriteSerializer


def _valid(data, partial=False) -> dict:
    serializer = ChannelWriteSerializer(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _workspace(user, workspace_id) -> Workspace:
    if workspace_id not in workspace_ids_for(user):
        raise Http404("Not found.")
    return Workspace.objects.get(id=workspace_id)


def _product(workspace, product_id):
    if product_id is None:
        return None
    from roadmaps.models import Product

    product = Product.objects.alive().filter(id=product_id, workspace=workspace).first()
    if product is None:
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
