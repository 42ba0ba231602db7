"""API of the roadmaps app under /api/v1/. Scoped querysets (foreign ids are 404), roles per action."""

import django_filters
from django.db import transaction
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from backlog import selectors as backlog_selectors
from backlog import services as backlog_services
from delivery import selectors as delivery_selectors
from pmhub.api.base import CRUD_MIXINS, CRUD_ROLES, READ_ROLES, ScopedViewSet
from pmhub.models import Role
from pmhub.utils import all_or_nothing

from .. import selectors, services
from ..diff import snapshot_diff
from ..models import Capability, Competitor, Initiative, Release, Segment
from . import serializers as s


class _Base(ScopedViewSet):
    workspace_field = "product__workspace"
    action_roles = CRUD_ROLES

    def _valid(self, serializer_class, partial=False, instance=None):
        # With the instance on update, so a unique (product, name) validator does not count the row itself.
        serializer = serializer_class(instance, data=self.request.data, partial=partial,
                                      context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def _read(self, obj, code=status.HTTP_200_OK):
        obj = self.base_queryset().get(pk=obj.pk)
        return Response(self.serializer_class(obj, context=self.get_serializer_context()).data, status=code)


# --- products ----------------------------------------------------------------------------------
class ProductViewSet(_Base, *CRUD_MIXINS):
    """Products of your workspaces (soft-deleted ones are left out; restore them with /restore/)."""

    workspace_field = "workspace"
    serializer_class = s.ProductSerializer
    write_serializer_class = s.ProductWriteSerializer
    action_roles = CRUD_ROLES | {"destroy": Role.ADMIN, "restore": Role.ADMIN, "timeline": Role.VIEWER}
    filterset_fields = ["workspace"]

    def base_queryset(self):
        if getattr(self, "action", None) == "restore":
            from ..models import Product

            return Product.objects.filter(deleted_at__isnull=False).select_related("business_case")
        return selectors.products_for_user(user=self.request.user).select_related("business_case")

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return s.ProductUpdateSerializer
        return super().get_serializer_class()

    @extend_schema(request=s.ProductWriteSerializer, responses={201: s.ProductSerializer})
    def create(self, request, *args, **kwargs):
        data = self._valid(s.ProductWriteSerializer)
        case = data.pop("business_case", None)
        product = services.product_create(actor=request.user, workspace=data["workspace"], name=data["name"],
                                          vision=data.get("vision", ""))
        if case:
            services.business_case_update(actor=request.user, product=product, data=case)
        return self._read(product, status.HTTP_201_CREATED)

    @extend_schema(request=s.ProductUpdateSerializer, responses=s.ProductSerializer)
    def update(self, request, *args, **kwargs):
        product = self.get_object()
        data = self._valid(s.ProductUpdateSerializer, partial=kwargs.get("partial", False))
        case = data.pop("business_case", None)
        data.pop("version", None)
        # The product's version guards its business case too: one transaction, one claim.
        with transaction.atomic():
            services.product_update(actor=request.user, product=product, data=data,
                                    version=self.expected_version(product))
            if case:
                services.business_case_update(actor=request.user, product=product, data=case)
        return self._read(product)

    def destroy(self, request, *args, **kwargs):
        services.product_delete(actor=request.user, product=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=s.ProductSerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        product = services.product_restore(actor=request.user, product=self.get_object())
        return Response(s.ProductSerializer(product).data)

    @extend_schema(responses=s.TimelineSerializer, parameters=[
        OpenApiParameter(name, OpenApiTypes.STR, required=False) for name in
        ("objective", "status", "owner", "label", "horizon")])
    @action(detail=True, methods=["get"])
    def timeline(self, request, pk=None):
        """Initiatives, dependencies (with conflict flags) and releases in a fixed number of queries."""
        product = self.get_object()
        data = selectors.roadmap_for_product(product=product, params=request.query_params)
        backlog_selectors.attach_initiative_progress(data["initiatives"])
        delivery_selectors.attach_release_progress(data["releases"])
        data["product"] = product.id
        return Response(s.TimelineSerializer(data).data)


# --- simple children -----------------------------------------------------------------------------
class _ChildViewSet(_Base, *CRUD_MIXINS):
    model = None
    selector = None
    filterset_fields = ["product"]

    def base_queryset(self):
        return type(self).selector(user=self.request.user)

    def create(self, request, *args, **kwargs):
        data = self._valid(self.serializer_class)
        product = data.pop("product")
        obj = services.child_create(actor=request.user, model=self.model, product=product, data=data)
        return self._read(obj, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        obj = self.get_object()
        data = self._valid(self.serializer_class, partial=bool(kwargs.get("partial")), instance=obj)
        data.pop("product", None)
        data.pop("version", None)
        services.child_update(actor=request.user, obj=obj, data=data, version=self.expected_version(obj))
        return self._read(obj)

    def destroy(self, request, *args, **kwargs):
        services.child_delete(actor=request.user, obj=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class SegmentViewSet(_ChildViewSet):
    """Customer segments of a product: name, needs (Markdown) and size."""

    model, selector, serializer_class = Segment, selectors.segments_for_user, s.SegmentSerializer


class CapabilityViewSet(_ChildViewSet):
    """Rows of the capability comparison grid, with our own level (yes/partial/no)."""

    model, selector, serializer_class = Capability, selectors.capabilities_for_user, s.CapabilitySerializer


class CompetitorViewSet(_ChildViewSet):
    """Competitors with strengths, weaknesses and their level per capability."""

    model, selector, serializer_class = Competitor, selectors.competitors_for_user, s.CompetitorSerializer
    action_roles = CRUD_ROLES | {"rate": Role.EDITOR}
    plain_object_actions = frozenset({"update", "partial_update", "rate"})  # answered by _read

    @extend_schema(request=s.RatingSerializer, responses=s.CompetitorSerializer)
    @action(detail=True, methods=["post"])
    def rate(self, request, pk=None):
        competitor = self.get_object()
        data = self._valid(s.RatingSerializer)
        services.capability_rate(actor=request.user, competitor=competitor, capability=data["capability"],
                                 level=data["level"])
        return self._read(competitor)


class ReleaseViewSet(_ChildViewSet):
    """Releases and milestones. PATCH status=released (or POST /ship/) ships it once."""

    model, serializer_class = Release, s.ReleaseSerializer
    action_roles = CRUD_ROLES | {"ship": Role.EDITOR, "scope": Role.EDITOR}
    plain_object_actions = frozenset({"update", "partial_update", "ship", "scope"})  # answered by _read

    @staticmethod
    def selector(*, user):
        # Progress over the release's scope (delivery composes the backlog's definition).
        return selectors.releases_for_user(user=user).after_fetch(delivery_selectors.attach_release_progress)

    def update(self, request, *args, **kwargs):
        release = self.get_object()
        data = self._valid(self.serializer_class, partial=bool(kwargs.get("partial")), instance=release)
        data.pop("product", None)
        new_status = data.pop("status", None)
        data.pop("version", None)
        with transaction.atomic():
            services.child_update(actor=request.user, obj=release, data=data, version=self.expected_version(release))
            if new_status == Release.Status.RELEASED:
                services.release_mark_released(actor=request.user, release=release)
        return self._read(release)

    @extend_schema(request=s.ReleaseShipSerializer, responses=s.ReleaseSerializer)
    @action(detail=True, methods=["post"])
    def ship(self, request, pk=None):
        """Ship the release. When a ship guard refuses (open required launch items), a 400 names
        `override_reason`: send one to ship anyway (it is recorded)."""
        data = self._valid(s.ReleaseShipSerializer)
        release = services.release_mark_released(actor=request.user, release=self.get_object(),
                                                 override_reason=data.get("override_reason", ""))
        return self._read(release)

    @extend_schema(request=s.ReleaseScopeSerializer, responses=s.ReleaseSerializer)
    @action(detail=True, methods=["post"])
    def scope(self, request, pk=None):
        """Put initiatives and epics in the release's scope, or take them out (`unassign`)."""
        release = self.get_object()
        data = self._valid(s.ReleaseScopeSerializer)
        calls = []
        if data["initiatives"]:
            calls.append(lambda: services.release_assign(actor=request.user, release=release,
                                                         initiative_ids=data["initiatives"], unassign=data["unassign"]))
        if data["epics"]:
            link = {"unlink_from": release} if data["unassign"] else {"release": release}
            calls.append(lambda: backlog_services.epics_link(actor=request.user, product=release.product,
                                                             epic_ids=data["epics"], **link))
        all_or_nothing(*calls)
        return self._read(release)


class ObjectiveViewSet(_Base, *CRUD_MIXINS):
    """Objectives of a product for a quarter (YYYY-Qn) or custom dates, with their key results."""

    serializer_class = s.ObjectiveSerializer
    filterset_fields = ["product"]
    plain_object_actions = frozenset({"update", "partial_update"})  # answered by _read

    def base_queryset(self):
        return selectors.objectives_for_user(user=self.request.user).after_fetch(
            backlog_selectors.attach_objective_work)

    def create(self, request, *args, **kwargs):
        data = self._valid(s.ObjectiveSerializer)
        product = data.pop("product")
        obj = services.objective_create(actor=request.user, product=product, data=data)
        return self._read(obj, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        obj = self.get_object()
        data = self._valid(s.ObjectiveSerializer, partial=bool(kwargs.get("partial")))
        data.pop("product", None)
        data.pop("version", None)
        services.objective_update(actor=request.user, objective=obj, data=data, version=self.expected_version(obj))
        return self._read(obj)

    def destroy(self, request, *args, **kwargs):
        services.child_delete(actor=request.user, obj=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class KeyResultViewSet(_Base, *CRUD_MIXINS):
    """Key results: progress = (current - start) / (target - start), clamped 0..1; a linked KPI's
    current value is used as the current value."""

    workspace_field = "objective__product__workspace"
    serializer_class = s.KeyResultSerializer
    filterset_fields = ["objective"]

    def base_queryset(self):
        return selectors.key_results_for_user(user=self.request.user)

    def create(self, request, *args, **kwargs):
        data = self._valid(s.KeyResultSerializer)
        objective = data.pop("objective")
        obj = services.key_result_create(actor=request.user, objective=objective, data=data)
        return self._read(obj, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        obj = self.get_object()
        data = self._valid(s.KeyResultSerializer, partial=bool(kwargs.get("partial")))
        data.pop("objective", None)
        data.pop("version", None)
        services.child_update(actor=request.user, obj=obj, data=data, version=self.expected_version(obj))
        return self._read(obj)

    def destroy(self, request, *args, **kwargs):
        services.child_delete(actor=request.user, obj=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- initiatives and dependencies ----------------------------------------------------------------
class InitiativeFilter(django_filters.FilterSet):
    objective = django_filters.NumberFilter(field_name="objectives__id", distinct=True)
    label = django_filters.CharFilter(method="filter_label")

    class Meta:
        model = Initiative
        fields = ["product", "status", "owner", "horizon", "release", "objective", "label"]

    def filter_label(self, qs, name, value):
        return selectors.initiatives_filtered(qs, {"label": value})


class InitiativeViewSet(_Base, *CRUD_MIXINS):
    """Initiatives with progress from the backlog and dependency conflicts. Updates carry the
    `version` read; a stale one gets 409 with the current state."""

    serializer_class = s.InitiativeSerializer
    write_serializer_class = s.InitiativeWriteSerializer
    filterset_class = InitiativeFilter
    action_roles = CRUD_ROLES | {"move": Role.EDITOR, "work": Role.VIEWER, "take": Role.EDITOR,
                                 "release_work": Role.EDITOR}
    # Answered by _read, or by _work (which reads the initiative's work afresh).
    plain_object_actions = frozenset({"update", "partial_update", "move", "take", "release_work"})

    def base_queryset(self):
        deps = selectors.dependencies_annotated()
        return selectors.initiatives_for_user(user=self.request.user).prefetch_related(
            Prefetch("blocked_by", queryset=deps), Prefetch("blocks", queryset=deps)).order_by(
            "start_date", "id").after_fetch(backlog_selectors.attach_initiative_progress)

    def _work(self, initiative):
        epics = backlog_selectors.epics_of_initiative(initiative=initiative)
        stories = backlog_selectors.stories_of_initiative(initiative=initiative)
        figures = backlog_selectors.progress_for_initiatives(initiative_ids=[initiative.id])
        return Response(s.InitiativeWorkReadSerializer({
            "initiative": initiative.id, "work": figures.get(initiative.id, backlog_selectors.EMPTY).as_dict(),
            "epics": epics, "stories": stories}).data)

    @extend_schema(request=None, responses=s.InitiativeWorkReadSerializer)
    @action(detail=True, methods=["get"])
    def work(self, request, pk=None):
        """The initiative's epics (with their progress) and their stories, and its progress."""
        return self._work(self.get_object())

    @extend_schema(request=s.InitiativeWorkSerializer, responses=s.InitiativeWorkReadSerializer)
    @action(detail=True, methods=["post"])
    def take(self, request, pk=None):
        """Take epics of the product into this initiative, and/or stories into one of its epics."""
        initiative = self.get_object()
        data = self._valid(s.InitiativeWorkSerializer)
        all_or_nothing(*[call for call in (
            data["epics"] and (lambda: backlog_services.epics_link(
                actor=request.user, product=initiative.product, epic_ids=data["epics"], initiative=initiative)),
            data["stories"] and (lambda: backlog_services.initiative_take_stories(
                actor=request.user, initiative=initiative, story_ids=data["stories"], epic_id=data.get("epic"))),
        ) if call])
        return self._work(initiative)

    @extend_schema(request=s.InitiativeWorkSerializer, responses=s.InitiativeWorkReadSerializer)
    @action(detail=True, methods=["post"], url_path="release-work")
    def release_work(self, request, pk=None):
        """Let epics or stories go: the epics leave the initiative, the stories leave their epic."""
        initiative = self.get_object()
        data = self._valid(s.InitiativeWorkSerializer)
        all_or_nothing(*[call for call in (
            data["epics"] and (lambda: backlog_services.epics_link(
                actor=request.user, product=initiative.product, epic_ids=data["epics"], unlink_from=initiative)),
            data["stories"] and (lambda: backlog_services.initiative_release_stories(
                actor=request.user, initiative=initiative, story_ids=data["stories"])),
        ) if call])
        return self._work(initiative)

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return s.InitiativeUpdateSerializer
        return super().get_serializer_class()

    @extend_schema(request=s.InitiativeWriteSerializer, responses={201: s.InitiativeSerializer})
    def create(self, request, *args, **kwargs):
        data = self._valid(s.InitiativeWriteSerializer)
        product = data.pop("product")
        obj = services.initiative_create(actor=request.user, product=product, data=data)
        return self._read(obj, status.HTTP_201_CREATED)

    @extend_schema(request=s.InitiativeUpdateSerializer, responses=s.InitiativeSerializer)
    def update(self, request, *args, **kwargs):
        obj = self.get_object()
        data = self._valid(s.InitiativeUpdateSerializer, partial=bool(kwargs.get("partial")))
        data.pop("version", None)
        services.initiative_update(actor=request.user, initiative=obj, data=data, version=self.expected_version(obj))
        return self._read(obj)

    def destroy(self, request, *args, **kwargs):
        services.initiative_delete(actor=request.user, initiative=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=s.InitiativeMoveSerializer, responses=s.InitiativeSerializer)
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        """Move on the board (horizon, rank) or the timeline (start/end dates)."""
        obj = self.get_object()
        data = self._valid(s.InitiativeMoveSerializer)
        services.initiative_move(actor=request.user, initiative=obj, **data)
        return self._read(obj)


class DependencyViewSet(_Base, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                        mixins.DestroyModelMixin):
    """`blocker` must end before `blocked` starts; `conflict` is true when it does not. Cycles are refused."""

    workspace_field = "blocker__product__workspace"
    serializer_class = s.DependencySerializer
    filterset_fields = ["blocker", "blocked"]
    action_roles = READ_ROLES | {"create": Role.EDITOR, "destroy": Role.EDITOR}

    def base_queryset(self):
        qs = selectors.dependencies_for_user(user=self.request.user)
        product = self.request.query_params.get("product")
        if product:
            qs = qs.filter(blocker__product_id=selectors._int(product))
        return qs

    @extend_schema(parameters=[OpenApiParameter("product", OpenApiTypes.INT, required=False)])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def create(self, request, *args, **kwargs):
        data = self._valid(s.DependencySerializer)
        obj = services.dependency_create(actor=request.user, blocker=data["blocker"], blocked=data["blocked"])
        return self._read(obj, status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs):
        services.dependency_delete(actor=request.user, dependency=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- snapshots and share links ---------------------------------------------------------------------
class SnapshotViewSet(_Base, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                      mixins.DestroyModelMixin):
    """Named snapshots of a roadmap; /diff/?other=<id> compares two of the same product."""

    serializer_class = s.SnapshotSerializer
    filterset_fields = ["product"]
    action_roles = READ_ROLES | {"create": Role.EDITOR, "destroy": Role.EDITOR, "diff": Role.VIEWER}

    def base_queryset(self):
        return selectors.snapshots_for_user(user=self.request.user)

    def create(self, request, *args, **kwargs):
        data = self._valid(s.SnapshotSerializer)
        obj = services.snapshot_create(actor=request.user, product=data["product"], name=data["name"])
        return self._read(obj, status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs):
        services.child_delete(actor=request.user, obj=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses=s.DiffSerializer,
                   parameters=[OpenApiParameter("other", OpenApiTypes.INT, required=True,
                                                description="The newer snapshot to compare with.")])
    @action(detail=True, methods=["get"])
    def diff(self, request, pk=None):
        old = self.get_object()
        new = get_object_or_404(self.get_queryset(), pk=selectors._int(request.query_params.get("other")),
                                product_id=old.product_id)
        return Response(snapshot_diff(old.data, new.data))


class ShareLinkViewSet(_Base, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                       mixins.DestroyModelMixin):
    """Read-only public links to one product's roadmap in a chosen view (timeline, board, list) with
    the sharer's filters, optionally its presentation. The token is shown once, on create; DELETE
    revokes the link (it stays listed as revoked)."""

    serializer_class = s.ShareLinkSerializer
    filterset_fields = ["product"]
    action_roles = READ_ROLES | {"create": Role.EDITOR, "destroy": Role.EDITOR}

    def base_queryset(self):
        return selectors.share_links_for_user(user=self.request.user)

    @extend_schema(request=s.ShareLinkWriteSerializer, responses={201: s.ShareLinkCreatedSerializer})
    def create(self, request, *args, **kwargs):
        data = self._valid(s.ShareLinkWriteSerializer)
        link, raw = services.share_link_create(actor=request.user, product=data["product"], days=data["days"],
                                               label=data.get("label", ""), view=data["view"],
                                               filters={k: v for k, v in (data.get("filters") or {}).items()
                                                        if v not in (None, "")},
                                               allow_present=data["allow_present"])
        body = s.ShareLinkSerializer(link).data
        body["token"] = raw
        body["url"] = request.build_absolute_uri(f"/share/{raw}/")
        return Response(body, status=status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs):
        services.share_link_revoke(actor=request.user, link=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

