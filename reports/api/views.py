from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from pmhub.access import roles_of
from pmhub.api.base import AUTHENTICATED, CRUD_MIXINS, CRUD_ROLES, ScopedViewSet, member_workspace
from pmhub.api.permissions import WorkspaceRole
from pmhub.models import Role
from roadmaps.selectors import product_of_workspace

from .. import selectors, services
from ..models import WebhookEndpoint
from .serializers import (
    NotificationPreferenceSerializer,
    PreviewRequestSerializer,
    ReportSerializer,
    RunSerializer,
    SubscriptionSerializer,
    SubscriptionWriteSerializer,
    WebhookDeliverySerializer,
    WebhookEndpointCreatedSerializer,
    WebhookEndpointSerializer,
    WebhookEndpointWriteSerializer,
)


def _valid(serializer_class, data, partial=False) -> dict:
    serializer = serializer_class(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


_workspace = member_workspace


def _product(workspace, product_id):
    product = product_of_workspace(workspace, product_id)
    if product is None and product_id is not None:
        raise ValidationError({"product": "Unknown product."})
    return product


class ReportSubscriptionViewSet(ScopedViewSet, *CRUD_MIXINS):
    """Report subscriptions: who gets which product's report, weekly or monthly."""

    serializer_class = SubscriptionSerializer
    write_serializer_class = SubscriptionWriteSerializer
    action_roles = CRUD_ROLES | {"preview": Role.VIEWER, "preview_new": Role.VIEWER, "send_now": Role.EDITOR,
                                 "runs": Role.VIEWER}
    filterset_fields = ["workspace", "product", "cadence", "active"]

    def base_queryset(self):
        return selectors.subscriptions_for_user(user=self.request.user).order_by("id")

    @extend_schema(request=SubscriptionWriteSerializer, responses={201: SubscriptionSerializer})
    def create(self, request, *args, **kwargs):
        data = dict(_valid(SubscriptionWriteSerializer, request.data))
        workspace = _workspace(request.user, data.pop("workspace"))
        data.pop("active", None)
        data.pop("version", None)
        data["product"] = _product(workspace, data.get("product"))
        subscription = services.subscription_create(user=request.user, workspace=workspace, **data)
        return Response(self._read(subscription), status=status.HTTP_201_CREATED)

    @extend_schema(request=SubscriptionWriteSerializer, responses=SubscriptionSerializer)
    def update(self, request, *args, **kwargs):
        subscription = self.get_object()
        data = dict(_valid(SubscriptionWriteSerializer, request.data, partial=kwargs.get("partial", False)))
        data.pop("workspace", None)
        if "product" in data:
            data["product"] = _product(subscription.workspace, data["product"])
        for key in ("member_ids", "emails"):
            if key not in request.data:
                data.pop(key, None)
        data.pop("version", None)
        services.subscription_update(user=request.user, subscription=subscription, data=data,
                                     version=self.expected_version(subscription))
        return Response(self._read(subscription))

    def perform_destroy(self, instance):
        services.subscription_delete(user=self.request.user, subscription=instance)

    @extend_schema(responses=ReportSerializer, description="The report's data, built now.")
    @action(detail=True, methods=["get"])
    def preview(self, request, pk=None):
        return Response(services.report_build(subscription=self.get_object()))

    @extend_schema(request=PreviewRequestSerializer, responses=ReportSerializer,
                   description="Preview a report before subscribing: a product (or the workspace) and sections.")
    @action(detail=False, methods=["post"], url_path="preview")
    def preview_new(self, request):
        data = _valid(PreviewRequestSerializer, request.data)
        workspace = _workspace(request.user, data["workspace"])
        return Response(services.report_build(product=_product(workspace, data.get("product")), workspace=workspace,
                                              section_keys=data.get("sections") or None))

    @extend_schema(request=None, responses={202: RunSerializer})
    @action(detail=True, methods=["post"])
    def send_now(self, request, pk=None):
        run = services.report_send_now(user=request.user, subscription=self.get_object())
        return Response(RunSerializer(run).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses=RunSerializer(many=True))
    @action(detail=True, methods=["get"])
    def runs(self, request, pk=None):
        subscription = self.get_object()
        qs = subscription.runs.defer("data").prefetch_related("deliveries").order_by("-created_at", "-id")
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(RunSerializer(page, many=True).data)

    def _read(self, subscription):
        return SubscriptionSerializer(self.base_queryset().get(pk=subscription.pk)).data


class WebhookEndpointViewSet(ScopedViewSet, *CRUD_MIXINS):
    """Outgoing webhooks of a workspace (admins). The secret is in the create response only."""

    serializer_class = WebhookEndpointSerializer
    write_serializer_class = WebhookEndpointWriteSerializer
    action_roles = {"list": Role.ADMIN, "retrieve": Role.ADMIN, "create": Role.ADMIN, "update": Role.ADMIN,
                    "partial_update": Role.ADMIN, "destroy": Role.ADMIN, "deliveries": Role.ADMIN}
    filterset_fields = ["workspace", "active"]

    def base_queryset(self):
        qs = WebhookEndpoint.objects.filter(kind="webhook").order_by("id")  # channels: /api/v1/channels/
        if self.action == "list":  # only the workspaces where the user is an admin
            admin_of = [ws for ws, role in roles_of(self.request.user).items() if role >= Role.ADMIN]
            qs = qs.filter(workspace_id__in=admin_of)
        return qs

    @extend_schema(request=WebhookEndpointWriteSerializer, responses={201: WebhookEndpointCreatedSerializer})
    def create(self, request, *args, **kwargs):
        data = dict(_valid(WebhookEndpointWriteSerializer, request.data))
        workspace = _workspace(request.user, data.pop("workspace"))
        data.pop("active", None)
        data.pop("version", None)
        endpoint = services.webhook_endpoint_create(user=request.user, workspace=workspace, **data)
        return Response(WebhookEndpointCreatedSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=WebhookEndpointWriteSerializer, responses=WebhookEndpointSerializer)
    def update(self, request, *args, **kwargs):
        endpoint = self.get_object()
        data = dict(_valid(WebhookEndpointWriteSerializer, request.data, partial=kwargs.get("partial", False)))
        data.pop("workspace", None)
        data.pop("version", None)
        services.webhook_endpoint_update(user=request.user, endpoint=endpoint, data=data,
                                         version=self.expected_version(endpoint))
        return Response(WebhookEndpointSerializer(endpoint).data)

    def perform_destroy(self, instance):
        services.webhook_endpoint_delete(user=self.request.user, endpoint=instance)

    @extend_schema(responses=WebhookDeliverySerializer(many=True))
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        endpoint = self.get_object()
        page = self.paginate_queryset(endpoint.deliveries.order_by("-created_at", "-id"))
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)


class NotificationPreferenceViewSet(viewsets.GenericViewSet):
    """Your e-mail preference per notification kind (no row stored means on)."""

    permission_classes = [WorkspaceRole]
    serializer_class = NotificationPreferenceSerializer
    action_roles = {"list": AUTHENTICATED, "update": AUTHENTICATED, "partial_update": AUTHENTICATED}
    lookup_field = "kind"
    lookup_value_regex = "[a-z_]+"
    pagination_class = None

    def get_queryset(self):  # for the schema generator only: preferences are not a model list
        return WebhookEndpoint.objects.none()

    def list(self, request):
        prefs = services.notification_preferences_for(user=request.user)
        return Response(NotificationPreferenceSerializer(prefs, many=True).data)

    @extend_schema(request=NotificationPreferenceSerializer, responses=NotificationPreferenceSerializer)
    def update(self, request, kind=None, partial=False):
        data = _valid(NotificationPreferenceSerializer, request.data)
        services.notification_preference_set(user=request.user, kind=kind, email=data["email"])
        pref = next(p for p in services.notification_preferences_for(user=request.user) if p["kind"] == kind)
        return Response(NotificationPreferenceSerializer(pref).data)

    @extend_schema(request=NotificationPreferenceSerializer, responses=NotificationPreferenceSerializer)
    def partial_update(self, request, kind=None):
        return self.update(request, kind=kind, partial=True)
