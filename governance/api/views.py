"""API of the governance app: the risk and issue register (with the mediation log) and each
product's risk appetite."""

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from pmhub.api.base import CRUD_MIXINS, CRUD_ROLES, READ_ROLES, ScopedViewSet
from pmhub.api.filters import ScopedFilterBackend
from pmhub.api.ordering import OrderingFilter
from pmhub.models import Role
from pmhub.ordering import Orderings
from roadmaps.selectors import product_for_user

from .. import selectors, services
from ..models import IssueNote, ProductGovernance, Risk
from .serializers import (
    IssueNoteSerializer,
    IssueNoteWriteSerializer,
    RiskAppetiteSerializer,
    RiskAppetiteWriteSerializer,
    RiskSerializer,
    RiskWriteSerializer,
)


def _valid(serializer_class, request, partial=False):
    serializer = serializer_class(data=request.data, partial=partial, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class RiskViewSet(ScopedViewSet, *CRUD_MIXINS):
    """Risks and issues of your products. Filter with `?product=`, `kind`, `status`, `owner`,
    `likelihood`, `impact`; order with `?ordering=-score`. `score` = likelihood x impact;
    `above_appetite` when open and above the product's appetite. Updates name the `version` read."""

    workspace_field = "product__workspace"
    serializer_class = RiskSerializer
    write_serializer_class = RiskWriteSerializer
    action_roles = CRUD_ROLES | {"notes": Role.EDITOR}
    filter_backends = [ScopedFilterBackend, OrderingFilter]
    filterset_fields = ["product", "kind", "status", "owner", "likelihood", "impact", "trend"]
    orderings = Orderings({
        "-score": ("-score", "id"), "score": ("score", "id"),
        "due_date": ("due_date", "id"), "review_date": ("review_date", "id"),
        "-created_at": ("-created_at", "-id"),
    }, default="-score")

    def base_queryset(self):
        return (selectors.risks_annotated(Risk.objects.filter(product__deleted_at__isnull=True))
                .prefetch_related("initiatives", "releases", "epics", "kpis",
                                  Prefetch("notes", queryset=IssueNote.objects.order_by("created_at", "id")))
                .order_by("-score", "id"))

    def _read(self, risk):
        return RiskSerializer(self.base_queryset().get(pk=risk.pk)).data

    @extend_schema(request=RiskWriteSerializer, responses={201: RiskSerializer})
    def create(self, request, *args, **kwargs):
        data = dict(_valid(RiskWriteSerializer, request))
        product_id = data.pop("product", None)
        if product_id is None:
            raise ValidationError({"product": ["This field is required."]})
        product = product_for_user(user=request.user, product_id=product_id)
        data.pop("version", None)
        risk = services.risk_create(user=request.user, product=product, data=data)
        return Response(self._read(risk), status=status.HTTP_201_CREATED)

    @extend_schema(request=RiskWriteSerializer, responses=RiskSerializer)
    def update(self, request, *args, **kwargs):
        risk = self.get_object()
        data = dict(_valid(RiskWriteSerializer, request, partial=kwargs.get("partial", False)))
        data.pop("product", None)
        data.pop("version", None)
        services.risk_update(user=request.user, risk=risk, data=data, version=self.expected_version(risk))
        return Response(self._read(risk))

    @extend_schema(request=RiskWriteSerializer, responses=RiskSerializer)
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def destroy(self, request, *args, **kwargs):
        services.risk_delete(user=request.user, risk=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=IssueNoteWriteSerializer, responses={201: IssueNoteSerializer})
    @action(detail=True, methods=["post"])
    def notes(self, request, pk=None):
        """Record a decision in the item's mediation log (who and when are kept)."""
        risk = self.get_object()
        data = _valid(IssueNoteWriteSerializer, request)
        note = services.issue_note_add(user=request.user, risk=risk, text=data["text"])
        return Response(IssueNoteSerializer(note).data, status=status.HTTP_201_CREATED)


class RiskAppetiteViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                          mixins.CreateModelMixin, mixins.UpdateModelMixin):
    """Each product's risk appetite (admins set it). POST names the product (first setting);
    PUT/PATCH name the `version` read. A product without a row has the default appetite, 12."""

    workspace_field = "product__workspace"
    serializer_class = RiskAppetiteSerializer
    write_serializer_class = RiskAppetiteWriteSerializer
    action_roles = READ_ROLES | {"create": Role.ADMIN, "update": Role.ADMIN, "partial_update": Role.ADMIN}
    filterset_fields = ["product"]

    def base_queryset(self):
        return ProductGovernance.objects.filter(product__deleted_at__isnull=True).order_by("id")

    @extend_schema(request=RiskAppetiteWriteSerializer, responses={201: RiskAppetiteSerializer})
    def create(self, request, *args, **kwargs):
        data = _valid(RiskAppetiteWriteSerializer, request)
        if data.get("product") is None:
            raise ValidationError({"product": ["This field is required."]})
        product = product_for_user(user=request.user, product_id=data["product"])
        if ProductGovernance.objects.filter(product=product).exists():
            raise ValidationError({"product": ["This product's appetite is set already: update it (PATCH)."]})
        row = services.appetite_set(user=request.user, product=product, appetite=data["risk_appetite"], version=None)
        return Response(RiskAppetiteSerializer(row).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RiskAppetiteWriteSerializer, responses=RiskAppetiteSerializer)
    def update(self, request, *args, **kwargs):
        row = self.get_object()
        data = _valid(RiskAppetiteWriteSerializer, request, partial=kwargs.get("partial", False))
        appetite = data.get("risk_appetite", row.risk_appetite)
        row = services.appetite_set(user=request.user, product=row.product, appetite=appetite,
                                    version=self.expected_version(row))
        return Response(RiskAppetiteSerializer(row).data)

    @extend_schema(request=RiskAppetiteWriteSerializer, responses=RiskAppetiteSerializer)
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)
