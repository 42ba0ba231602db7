"""API of the delivery app: iterations (+ items, burndown, velocity), release scope (+
approve), change requests (+ approve/reject) and imports (upload, preview, confirm, status)."""

import django_filters
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from pmhub.api.base import CRUD_MIXINS, CRUD_ROLES, READ_ROLES, ScopedViewSet
from pmhub.api.parsers import JSONParser
from pmhub.models import Role
from roadmaps.selectors import product_for_user

from .. import selectors, services
from ..models import ChangeRequest, ImportJob, Iteration
from .serializers import (
    BurnSerializer,
    ChangeRequestSerializer,
    ChangeRequestWriteSerializer,
    DecisionSerializer,
    ImportJobSerializer,
    ImportPreviewSerializer,
    ImportUploadSerializer,
    IterationSerializer,
    IterationStorySerializer,
    IterationWriteSerializer,
    ReleaseScopeListSerializer,
    ReleaseScopeSerializer,
    ScopeApproveSerializer,
    ScopeChangeSerializer,
    StoryRefSerializer,
    VelocitySerializer,
)


def _valid(serializer_class, data, partial=False):
    serializer = serializer_class(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _product(request, product_id):
    if product_id in (None, ""):
        raise ValidationError({"product": "This field is required."})
    try:
        product_id = int(product_id)
    except (TypeError, ValueError):
        raise ValidationError({"product": "A product id is a number."})
    return product_for_user(user=request.user, product_id=product_id)


PRODUCT_PARAM = OpenApiParameter("product", OpenApiTypes.INT, description="Product id")


@extend_schema_view(list=extend_schema(parameters=[PRODUCT_PARAM]))
class IterationViewSet(ScopedViewSet, *CRUD_MIXINS):
    """Iterations (sprints) with capacity; `?product=<id>` filters a product's."""

    queryset = Iteration.objects.none()
    serializer_class = IterationSerializer
    write_serializer_class = IterationWriteSerializer
    workspace_field = "product__workspace"
    action_roles = CRUD_ROLES | {
        "stories": Role.VIEWER, "add_story": Role.EDITOR, "remove_story": Role.EDITOR, "burndown": Role.VIEWER,
        "velocity": Role.VIEWER,
    }

    def base_queryset(self):
        qs = selectors.iterations_for_user(user=self.request.user).order_by("-start_date", "-id")
        product = self.request.query_params.get("product")
        if product and product.isdigit() and self.action == "list":
            qs = qs.filter(product_id=int(product))
        return qs

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Iteration.objects.none()
        return self.base_queryset()

    def _read(self, iteration):
        return IterationSerializer(self.get_queryset().get(pk=iteration.pk)).data

    @extend_schema(request=IterationWriteSerializer, responses={201: IterationSerializer})
    def create(self, request, *args, **kwargs):
        data = _valid(IterationWriteSerializer, request.data)
        product = _product(request, data.pop("product", None))
        data.pop("version", None)
        iteration = services.iteration_create(actor=request.user, product=product, **data)
        return Response(self._read(iteration), status=status.HTTP_201_CREATED)

    @extend_schema(request=IterationWriteSerializer, responses=IterationSerializer)
    def update(self, request, *args, **kwargs):
        iteration = self.get_object()
        data = _valid(IterationWriteSerializer, request.data, partial=kwargs.get("partial", False))
        data.pop("product", None)
        data.pop("version", None)
        services.iteration_update(actor=request.user, iteration=iteration, data=data,
                                  version=self.expected_version(iteration))
        return Response(self._read(iteration))

    def perform_destroy(self, instance):
        services.iteration_delete(actor=self.request.user, iteration=instance)

    @extend_schema(responses=IterationStorySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)  # the whole plan, as the schema says
    def stories(self, request, pk=None):
        iteration = self.get_object()
        return Response(IterationStorySerializer(selectors.iteration_stories(iteration=iteration), many=True).data)

    @extend_schema(request=StoryRefSerializer, responses=IterationSerializer)
    @action(detail=True, methods=["post"], url_path="items")
    def add_story(self, request, pk=None):
        iteration = self.get_object()
        data = _valid(StoryRefSerializer, request.data)
        services.iteration_add_story(actor=request.user, iteration=iteration, story_id=data["story"])
        return Response(self._read(iteration))

    @extend_schema(request=StoryRefSerializer, responses=IterationSerializer)
    @action(detail=True, methods=["post"], url_path="items/remove")
    def remove_story(self, request, pk=None):
        iteration = self.get_object()
        data = _valid(StoryRefSerializer, request.data)
        services.iteration_remove_story(actor=request.user, iteration=iteration, story_id=data["story"])
        return Response(self._read(iteration))

    @extend_schema(responses=BurnSerializer)
    @action(detail=True, methods=["get"])
    def burndown(self, request, pk=None):
        iteration = self.get_object()
        series = selectors.burn_for(iteration=iteration)
        return Response(BurnSerializer({"iteration": iteration.id,
                                        "capacity": services.iteration_capacity(iteration=iteration),
                                        "days": [d.as_dict() for d in series]}).data)

    @extend_schema(parameters=[OpenApiParameter("product", OpenApiTypes.INT, required=True)],
                   responses=VelocitySerializer)
    @action(detail=False, methods=["get"])
    def velocity(self, request):
        product = _product(request, request.query_params.get("product"))
        summary = selectors.velocity_summary(product=product)
        return Response(VelocitySerializer(dict(summary, product=product.id)).data)


@extend_schema_view(list=extend_schema(parameters=[PRODUCT_PARAM]))
class ReleaseScopeViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """The scope of a release (by release id): stories, approved baseline and the delta.
    Before approval `add`/`remove` change it; after approval they open a change request."""

    serializer_class = ReleaseScopeListSerializer
    workspace_field = "product__workspace"
    action_roles = READ_ROLES | {"add": Role.EDITOR, "remove": Role.EDITOR, "approve": Role.ADMIN}
    plain_object_actions = frozenset({"add", "remove", "approve"})  # answered by _scope (its own reads)

    def base_queryset(self):
        return selectors.releases_for_user(user=self.request.user).order_by("release_date", "id")

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            from roadmaps.models import Release

            return Release.objects.none()
        qs = self.base_queryset()
        product = self.request.query_params.get("product")
        if product and product.isdigit() and self.action == "list":
            qs = qs.filter(product_id=int(product))
        return qs

    def _scope(self, release):
        summary = selectors.scope_summary(release=release)
        return ReleaseScopeSerializer({
            "release": release.id, "stories": summary["stories"], "current_points": summary["current_points"],
            "approval": summary["approval"], "approved_points": summary["approved_points"],
            "points_delta": summary["points_delta"], "added": [s.id for s in summary["added"]],
            "removed": [s.id for s in summary["removed"]], "work": summary["work"].as_dict()}).data

    @extend_schema(responses=ReleaseScopeSerializer)
    def retrieve(self, request, *args, **kwargs):
        return Response(self._scope(self.get_object()))

    def _change(self, request, kind):
        release = self.get_object()
        data = _valid(ScopeChangeSerializer, request.data)
        result = services.scope_change(actor=request.user, release=release, story_id=data["story"], kind=kind,
                                       reason=data["reason"])
        if isinstance(result, ChangeRequest):
            return Response({"change_request": ChangeRequestSerializer(result).data, "scope": self._scope(release)},
                            status=status.HTTP_202_ACCEPTED)
        return Response({"change_request": None, "scope": self._scope(release)})

    @extend_schema(request=ScopeChangeSerializer, responses={200: dict, 202: dict})
    @action(detail=True, methods=["post"])
    def add(self, request, pk=None):
        return self._change(request, ChangeRequest.Kind.ADD)

    @extend_schema(request=ScopeChangeSerializer, responses={200: dict, 202: dict})
    @action(detail=True, methods=["post"])
    def remove(self, request, pk=None):
        return self._change(request, ChangeRequest.Kind.REMOVE)

    @extend_schema(request=ScopeApproveSerializer, responses=ReleaseScopeSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        release = self.get_object()
        data = _valid(ScopeApproveSerializer, request.data)
        services.scope_approve(actor=request.user, release=release, note=data["note"])
        return Response(self._scope(release))


class ChangeRequestFilter(django_filters.FilterSet):
    kind = django_filters.CharFilter(help_text="add or remove")
    status = django_filters.CharFilter(help_text="pending, approved or rejected")

    class Meta:
        model = ChangeRequest
        fields = ["release", "status", "kind"]


class ChangeRequestViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin):
    """Proposed changes of an approved release scope, with their decision history."""

    serializer_class = ChangeRequestSerializer
    write_serializer_class = ChangeRequestWriteSerializer
    workspace_field = "release__product__workspace"
    action_roles = READ_ROLES | {"create": Role.EDITOR, "approve": Role.ADMIN, "reject": Role.ADMIN}
    filterset_class = ChangeRequestFilter

    def base_queryset(self):
        return selectors.change_requests_for_user(user=self.request.user)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ChangeRequest.objects.none()
        return self.base_queryset()

    @extend_schema(request=ChangeRequestWriteSerializer, responses={201: ChangeRequestSerializer})
    def create(self, request, *args, **kwargs):
        data = _valid(ChangeRequestWriteSerializer, request.data)
        release = get_object_or_404(selectors.releases_for_user(user=request.user), pk=data["release"])
        result = services.scope_change(actor=request.user, release=release, story_id=data["story"],
                                       kind=data["kind"], reason=data["reason"])
        if not isinstance(result, ChangeRequest):
            raise ValidationError({"release": "This release's scope is not approved yet: change it directly."})
        return Response(ChangeRequestSerializer(result).data, status=status.HTTP_201_CREATED)

    def _decide(self, request, approve):
        cr = self.get_object()
        data = _valid(DecisionSerializer, request.data)
        services.change_request_decide(actor=request.user, change_request=cr, approve=approve, note=data["note"])
        return Response(ChangeRequestSerializer(ChangeRequest.objects.get(pk=cr.pk)).data)

    @extend_schema(request=DecisionSerializer, responses=ChangeRequestSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._decide(request, True)

    @extend_schema(request=DecisionSerializer, responses=ChangeRequestSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._decide(request, False)


class ImportViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin):
    """CSV imports: upload (multipart: product, file) -> preview (mapping) -> confirm -> status."""

    serializer_class = ImportJobSerializer
    workspace_field = "product__workspace"
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    action_roles = {"list": Role.EDITOR, "retrieve": Role.EDITOR, "create": Role.EDITOR,
                    "preview": Role.EDITOR, "confirm": Role.EDITOR}

    def base_queryset(self):
        return selectors.imports_for_user(user=self.request.user)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ImportJob.objects.none()
        return self.base_queryset()

    @extend_schema(request={"multipart/form-data": ImportUploadSerializer}, responses={202: ImportJobSerializer},
                   description="Stores the file and answers 202 with the job in `parsing`; the worker reads it. "
                               "Poll `status_url` until `status` is `uploaded` (headers and mapping ready) "
                               "or `failed` (`error` says why the file could not be read).")
    def create(self, request, *args, **kwargs):
        data = _valid(ImportUploadSerializer, request.data)
        product = _product(request, data["product"])
        upload = data["file"]
        job = services.import_upload(actor=request.user, product=product, filename=upload.name,
                                     data=upload.read(services.MAX_IMPORT_BYTES + 1))
        return Response(ImportJobSerializer(self.get_queryset().get(pk=job.pk), context={"request": request}).data,
                        status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=ImportPreviewSerializer, responses=ImportJobSerializer)
    @action(detail=True, methods=["post"])
    def preview(self, request, pk=None):
        job = ImportJob.objects.select_related("product").defer("raw").get(pk=self.get_object().pk)
        data = _valid(ImportPreviewSerializer, request.data)
        services.import_preview(actor=request.user, job=job, mapping=data.get("mapping"),
                                status_map=data.get("status_map"))
        return Response(ImportJobSerializer(self.get_queryset().get(pk=job.pk), context={"request": request}).data)

    @extend_schema(request=None, responses={202: ImportJobSerializer})
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        job = self.get_object()
        services.import_confirm(actor=request.user, job=job)
        return Response(ImportJobSerializer(self.get_queryset().get(pk=job.pk), context={"request": request}).data,
                        status=status.HTTP_202_ACCEPTED)
