"""Adoption API: event ingestion (ingestion keys), features, rollups, adoption, retention,
outcome reviews and ingestion key management (user tokens / session, ScopedViewSet)."""

from datetime import date

import django_filters
from django.core.exceptions import PermissionDenied, ValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.response import Response

from governance.selectors import retired_product_ids
from pmhub.access import roles_of
from pmhub.api.base import CRUD_MIXINS, CRUD_ROLES, READ_ROLES, ScopedViewSet
from pmhub.api.parsers import JSONParser
from pmhub.api.throttling import AddressRateThrottle, TokenRateThrottle
from pmhub.clock import today_in
from pmhub.models import Role
from roadmaps.selectors import product_for_user

from .. import analytics, selectors, services
from ..ingestion import BatchInvalid, BatchTooLarge
from ..models import Feature, FeatureDaily, IngestionKey, OutcomeReview
from .authentication import HasIngestionKey, IngestionKeyAuthentication
from .serializers import (
    AdoptionSerializer,
    CalibrationSerializer,
    EventBatchResultSerializer,
    EventBatchSerializer,
    FeatureSerializer,
    FeatureUpdateSerializer,
    FeatureWriteSerializer,
    IngestionKeyCreatedSerializer,
    IngestionKeySerializer,
    IngestionKeyWriteSerializer,
    OutcomeReviewSerializer,
    RetentionSerializer,
    RollupSerializer,
)

ERROR = OpenApiResponse(description="The one error format: {detail, code, errors}.")


class IngestionKeyThrottle(TokenRateThrottle):
    def get_cache_key(self, request, view):
        if isinstance(request.auth, IngestionKey):
            return self.cache_format % {"scope": self.scope, "ident": f"ik{request.auth.pk}"}
        return None


class EventViewSet(viewsets.GenericViewSet):
    """Usage events from your product, in bulk, with a product ingestion key (not a user token)."""

    authentication_classes = [IngestionKeyAuthentication]
    permission_classes = [HasIngestionKey]
    throttle_classes = [IngestionKeyThrottle, AddressRateThrottle]
    parser_classes = [JSONParser]
    serializer_class = EventBatchSerializer

    @extend_schema(
        request=EventBatchSerializer,
        responses={202: EventBatchResultSerializer, 400: ERROR, 401: ERROR, 403: ERROR, 413: ERROR},
        description="Send up to 1,000 events. Each has an idempotency `id`: a re-sent event is stored once. "
                    "If any event is invalid, nothing is stored and the 400 lists the errors per item index "
                    "(`errors.events.<index>.<field>`); fix and resend the whole batch.",
    )
    @action(detail=False, methods=["post"])
    def bulk(self, request):
        key: IngestionKey = request.auth
        data = request.data
        if not isinstance(data, dict):
            raise DRFValidationError({"events": ["Send {\"events\": [...]}, a list of events."]})
        if "product" in data and str(data["product"]) != str(key.product_id):
            raise PermissionDenied("This ingestion key belongs to another product.")
        if retired_product_ids(product_ids=[key.product_id]):
            raise PermissionDenied("This product is retired: it no longer takes usage events.")
        try:
            result = services.events_ingest(key=key, items=data.get("events"))
        except BatchTooLarge as exc:
            return Response({"detail": str(exc), "code": "batch_too_large", "errors": {}},
                            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        except BatchInvalid as exc:
            raise DRFValidationError({"events": exc.errors})
        return Response(result, status=status.HTTP_202_ACCEPTED)


def _product(request, product_id):
    try:
        return product_for_user(user=request.user, product_id=int(product_id))
    except (TypeError, ValueError):
        raise ValidationError({"product": "A product id."})


def _kpi(product, kpi_id):
    if kpi_id is None:
        return None
    from metrics.models import Kpi

    kpi = Kpi.objects.filter(pk=kpi_id, product=product).first()
    if kpi is None:
        raise ValidationError({"kpi": "No such KPI in this product."})
    return kpi


def _date_param(request, name, default):
    raw = request.query_params.get(name)
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationError({name: "A date as YYYY-MM-DD."})


class FeatureViewSet(ScopedViewSet, *CRUD_MIXINS):
    """Features whose usage your products report; `adoption/` and `retention/` per feature."""

    workspace_field = "product__workspace"
    serializer_class = FeatureSerializer
    write_serializer_class = FeatureWriteSerializer
    action_roles = CRUD_ROLES | {"adoption": Role.VIEWER, "retention": Role.VIEWER}
    filterset_fields = ["product", "key"]

    def base_queryset(self):
        return Feature.objects.filter(product__deleted_at__isnull=True).select_related("kpi").order_by("product_id",
                                                                                                      "key")

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return FeatureUpdateSerializer
        return super().get_serializer_class()

    @extend_schema(request=FeatureWriteSerializer, responses={201: FeatureSerializer, 400: ERROR})
    def create(self, request, *args, **kwargs):
        s = FeatureWriteSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        data = dict(s.validated_data)
        product = _product(request, data.pop("product"))
        data["kpi"] = _kpi(product, data.get("kpi"))
        data.pop("version", None)
        feature = services.feature_create(user=request.user, product=product, **data)
        return Response(FeatureSerializer(feature).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=FeatureUpdateSerializer, responses={200: FeatureSerializer, 400: ERROR})
    def update(self, request, *args, **kwargs):
        feature = self.get_object()
        s = FeatureUpdateSerializer(data=request.data, partial=kwargs.get("partial", False))
        s.is_valid(raise_exception=True)
        data = dict(s.validated_data)
        if "product" in data and data.pop("product") != feature.product_id:
            raise ValidationError({"product": "A feature cannot move to another product."})
        if "kpi" in data:
            data["kpi"] = _kpi(feature.product, data["kpi"])
        data.pop("version", None)
        services.feature_update(user=request.user, feature=feature, data=data, version=self.expected_version(feature))
        return Response(FeatureSerializer(feature).data)

    @extend_schema(request=FeatureUpdateSerializer, responses={200: FeatureSerializer, 400: ERROR})
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def destroy(self, request, *args, **kwargs):
        services.feature_delete(user=request.user, feature=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        parameters=[OpenApiParameter("window", OpenApiTypes.INT, enum=[7, 28], description="Days (default 7)."),
                    OpenApiParameter("end", OpenApiTypes.DATE, description="Last local day (default today).")],
        responses=AdoptionSerializer,
    )
    @action(detail=True, methods=["get"])
    def adoption(self, request, pk=None):
        """Adoption % of the feature in the window ending `end`, the previous window and the trend."""
        feature = self.get_object()
        window = request.query_params.get("window", str(analytics.ADOPTION_WINDOW_DAYS))
        if window not in ("7", "28"):
            raise ValidationError({"window": "7 or 28."})
        end = _date_param(request, "end", today_in(feature.product.workspace.time_zone))
        figures = selectors.adoption_by_feature(product_id=feature.product_id, end=end, window=int(window))
        f = figures.get(feature.id, {})
        return Response(AdoptionSerializer({
            "feature": feature.id, "window_days": int(window), "end": end, "users": f.get("users", 0),
            "active": f.get("active", 0), "percent": f.get("percent"), "previous_percent": f.get("previous_percent"),
            "trend": f.get("trend"), "target": feature.target}).data)

    @extend_schema(
        parameters=[OpenApiParameter("cohorts", OpenApiTypes.INT, description="Weekly cohorts (1-26, default 8)."),
                    OpenApiParameter("end", OpenApiTypes.DATE, description="Last local day (default today).")],
        responses=RetentionSerializer,
    )
    @action(detail=True, methods=["get"])
    def retention(self, request, pk=None):
        """Week-over-week retention of the feature's adopters, per weekly cohort and combined."""
        feature = self.get_object()
        try:
            cohorts = int(request.query_params.get("cohorts", 8))
        except ValueError:
            cohorts = 0
        if not 1 <= cohorts <= 26:
            raise ValidationError({"cohorts": "A whole number from 1 to 26."})
        end = _date_param(request, "end", None)
        return Response(RetentionSerializer(selectors.feature_retention(feature=feature, end=end,
                                                                        cohorts=cohorts)).data)


class RollupFilter(django_filters.FilterSet):
    start = django_filters.DateFilter(field_name="day", lookup_expr="gte", label="First local day")
    end = django_filters.DateFilter(field_name="day", lookup_expr="lte", label="Last local day")

    class Meta:
        model = FeatureDaily
        fields = ["product", "feature", "start", "end"]


class RollupViewSet(ScopedViewSet, mixins.ListModelMixin):
    """Daily rollups per feature (local days): distinct users, events, distinct users in 7 days."""

    workspace_field = "product__workspace"
    serializer_class = RollupSerializer
    action_roles = {"list": Role.VIEWER}
    filterset_class = RollupFilter

    def base_queryset(self):
        return FeatureDaily.objects.select_related("feature").order_by("-day", "feature_id")


class OutcomeReviewViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Shipped epics and initiatives: KPI baseline at release, values after 30 and 90 days, and the
    score predicted; `calibration/?product=` tells how well scores predicted outcomes."""

    workspace_field = "product__workspace"
    serializer_class = OutcomeReviewSerializer
    action_roles = READ_ROLES | {"calibration": Role.VIEWER}
    filterset_fields = ["product", "kpi", "epic", "initiative", "release"]

    def base_queryset(self):
        return (OutcomeReview.objects.select_related("kpi", "epic", "initiative")
                .prefetch_related("checkpoints").order_by("-released_at", "-id"))

    @extend_schema(parameters=[OpenApiParameter("product", OpenApiTypes.INT, required=True)],
                   responses=CalibrationSerializer)
    @action(detail=False, methods=["get"], pagination_class=None)
    def calibration(self, request):
        product = _product(request, request.query_params.get("product"))
        rows = selectors.review_rows(self.get_queryset().filter(product=product))
        calibration = selectors.outcome_calibration(rows)
        return Response(CalibrationSerializer({"product": product.id, "window_30": calibration[30],
                                               "window_90": calibration[90]}).data)


class IngestionKeyViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                          mixins.DestroyModelMixin):
    """Ingestion keys of your products (workspace admins). The raw key is in the create response only;
    DELETE revokes a key (it stays listed, with revoked_at)."""

    workspace_field = "product__workspace"
    serializer_class = IngestionKeySerializer
    write_serializer_class = IngestionKeyWriteSerializer
    action_roles = {"list": Role.ADMIN, "retrieve": Role.ADMIN, "create": Role.ADMIN, "destroy": Role.ADMIN}
    filterset_fields = ["product"]

    def base_queryset(self):
        return IngestionKey.objects.select_related("product").order_by("-created_at", "-id")

    def get_queryset(self):
        qs = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):
            return qs
        # Keys are an admin matter: a viewer of the workspace does not even list them.
        admin_of = [ws for ws, role in roles_of(self.request.user).items() if role >= Role.ADMIN]
        member_of = list(roles_of(self.request.user))
        if self.action in ("retrieve", "destroy"):
            return qs.filter(product__workspace_id__in=member_of)  # non-admin members: 403, outsiders: 404
        return qs.filter(product__workspace_id__in=admin_of)

    @extend_schema(request=IngestionKeyWriteSerializer, responses={201: IngestionKeyCreatedSerializer, 400: ERROR})
    def create(self, request, *args, **kwargs):
        s = IngestionKeyWriteSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        product = _product(request, s.validated_data["product"])
        key, raw = services.ingestion_key_create(user=request.user, product=product, name=s.validated_data["name"])
        data = IngestionKeySerializer(key).data | {"key": raw}
        return Response(data, status=status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs):
        services.ingestion_key_revoke(user=request.user, key=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
