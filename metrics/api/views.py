"""API of the metrics app: KPIs, measurements (with a bulk upsert), health history, action plans."""

from django.db.models import Prefetch
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from backlog.models import Epic
from pmhub.api.base import CRUD_ROLES, READ_ROLES, ScopedViewSet
from pmhub.api.pagination import CursorPagination
from pmhub.models import Role
from roadmaps.models import Initiative
from roadmaps.selectors import product_for_user

from .. import selectors, services
from ..models import ActionPlan, Kpi, KpiHealth, Measurement
from .serializers import (
    ActionPlanSerializer,
    ActionPlanWriteSerializer,
    KpiHealthSerializer,
    KpiSerializer,
    KpiWriteSerializer,
    MeasurementBulkResultSerializer,
    MeasurementBulkSerializer,
    MeasurementSerializer,
    MeasurementWriteSerializer,
)


def _valid(serializer_class, request, partial=False):
    serializer = serializer_class(data=request.data, partial=partial, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class KpiViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """KPIs of your products. Filter with `?product=<id>`. Updates name the `version` they read (409 if stale)."""

    workspace_field = "product__workspace"
    serializer_class = KpiSerializer
    write_serializer_class = KpiWriteSerializer
    action_roles = CRUD_ROLES
    plain_object_actions = frozenset({"update", "partial_update"})  # answered by _read
    filterset_fields = ["product", "health"]

    def base_queryset(self):
        return (Kpi.objects.filter(product__deleted_at__isnull=True).order_by("id")
                .prefetch_related(Prefetch("initiatives", queryset=Initiative.objects.only("id")),
                                  Prefetch("epics", queryset=Epic.objects.only("id"))))

    def _read(self, kpi):
        return KpiSerializer(self.base_queryset().get(pk=kpi.pk)).data

    @extend_schema(request=KpiWriteSerializer, responses={201: KpiSerializer})
    def create(self, request, *args, **kwargs):
        data = dict(_valid(KpiWriteSerializer, request))
        product_id = data.pop("product", None)
        if product_id is None:
            raise ValidationError({"product": ["This field is required."]})
        # 404 for another workspace's product as for a missing one (no existence leak).
        product = product_for_user(user=request.user, product_id=product_id)
        data.pop("version", None)
        kpi = services.kpi_create(user=request.user, product=product, data=data)
        return Response(self._read(kpi), status=status.HTTP_201_CREATED)

    @extend_schema(request=KpiWriteSerializer, responses=KpiSerializer)
    def update(self, request, *args, **kwargs):
        kpi = self.get_object()
        data = dict(_valid(KpiWriteSerializer, request, partial=kwargs.get("partial", False)))
        data.pop("product", None)
        data.pop("version", None)
        services.kpi_update(user=request.user, kpi=kpi, data=data, expected_version=self.expected_version(kpi))
        return Response(self._read(kpi))

    @extend_schema(request=KpiWriteSerializer, responses=KpiSerializer)
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def destroy(self, request, *args, **kwargs):
        services.kpi_delete(user=request.user, kpi=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeasurementViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Values per KPI and period. POST upserts one value; `bulk/` upserts many (all or nothing,
    errors per item index). A value re-sent for the same period updates it."""

    workspace_field = "kpi__product__workspace"
    serializer_class = MeasurementSerializer
    action_roles = READ_ROLES | {"create": Role.EDITOR, "destroy": Role.EDITOR, "bulk": Role.EDITOR}
    filterset_fields = ["kpi"]
    pagination_class = CursorPagination

    def base_queryset(self):
        return Measurement.objects.filter(kpi__product__deleted_at__isnull=True)

    def _kpis(self, ids):
        qs = selectors.kpis_for_user(user=self.request.user).select_related("product__workspace")
        return {k.id: k for k in qs.filter(id__in=set(ids))}

    @extend_schema(request=MeasurementWriteSerializer, responses={201: MeasurementSerializer})
    def create(self, request, *args, **kwargs):
        data = _valid(MeasurementWriteSerializer, request)
        kpi = self._kpis([data["kpi"]]).get(data["kpi"])
        if kpi is None:
            raise ValidationError({"kpi": ["Unknown KPI."]})
        item = {"value": data["value"], "period": data.get("timestamp") or data.get("period")}
        rows = services.measurements_upsert(user=request.user, kpi=kpi, items=[item], source=Measurement.Source.API)
        measurement = Measurement.objects.get(kpi=kpi, period_start=rows[0].period_start)
        return Response(MeasurementSerializer(measurement).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=MeasurementBulkSerializer, responses=MeasurementBulkResultSerializer)
    @action(detail=False, methods=["post"])
    def bulk(self, request):
        data = _valid(MeasurementBulkSerializer, request)
        items = [{"kpi": i["kpi"], "value": i["value"], "period": i.get("timestamp") or i.get("period")}
                 for i in data["items"]]
        try:
            written = services.measurements_bulk_upsert(user=request.user, items=items,
                                                        kpis=self._kpis([i["kpi"] for i in items]))
        except services.ItemErrors as e:
            # Same shape as DRF's own per-item errors: {"items": {"<index>": {"field": [...]}}}
            raise ValidationError({"items": e.item_errors})
        except Http404:
            raise ValidationError({"items": ["Unknown KPI."]})
        return Response({"written": written})

    def destroy(self, request, *args, **kwargs):
        services.measurement_delete(user=request.user, measurement=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class KpiHealthViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Health transitions of your KPIs, newest first. Filter with `?kpi=<id>`."""

    workspace_field = "kpi__product__workspace"
    serializer_class = KpiHealthSerializer
    action_roles = READ_ROLES
    filterset_fields = ["kpi", "status"]

    def base_queryset(self):
        return KpiHealth.objects.filter(kpi__product__deleted_at__isnull=True).order_by("-evaluated_at", "-id")


class ActionPlanViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Action plans of off-track KPIs (opened automatically; closed on recovery or by hand)."""

    workspace_field = "kpi__product__workspace"
    serializer_class = ActionPlanSerializer
    write_serializer_class = ActionPlanWriteSerializer
    action_roles = READ_ROLES | {"create": Role.EDITOR, "update": Role.EDITOR, "partial_update": Role.EDITOR}
    filterset_fields = ["kpi", "status"]

    def base_queryset(self):
        return ActionPlan.objects.filter(kpi__product__deleted_at__isnull=True).order_by("-id")

    @extend_schema(request=ActionPlanWriteSerializer, responses={201: ActionPlanSerializer})
    def create(self, request, *args, **kwargs):
        data = dict(_valid(ActionPlanWriteSerializer, request))
        kpi_id = data.pop("kpi", None)
        kpi = selectors.kpis_for_user(user=request.user).select_related("product").filter(pk=kpi_id).first()
        if kpi is None:
            raise ValidationError({"kpi": ["Unknown KPI."]})
        data.pop("version", None)
        plan = services.action_plan_create(user=request.user, kpi=kpi, data=data)
        return Response(ActionPlanSerializer(plan).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ActionPlanWriteSerializer, responses=ActionPlanSerializer)
    def update(self, request, *args, **kwargs):
        plan = self.get_object()
        data = dict(_valid(ActionPlanWriteSerializer, request, partial=kwargs.get("partial", False)))
        data.pop("kpi", None)
        data.pop("version", None)
        services.action_plan_update(user=request.user, plan=plan, data=data, version=self.expected_version(plan))
        return Response(ActionPlanSerializer(plan).data)

    @extend_schema(request=ActionPlanWriteSerializer, responses=ActionPlanSerializer)
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)
