"""API of the governance app: the risk and issue register (with the mediation log) and each
product's risk appetite."""

from django.db import transaction
from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiParameter, extend_schema
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
from ..models import (
    ChecklistTemplate,
    ImpactDecision,
    ImpactRevision,
    ImpactStatement,
    IssueNote,
    LaunchItem,
    PortfolioEntry,
    ProductGovernance,
    Risk,
    ShipOverride,
    StageChange,
    StageProposal,
)
from .serializers import (
    ApplyTemplateResultSerializer,
    ApplyTemplateSerializer,
    ChecklistTemplateSerializer,
    ChecklistTemplateWriteSerializer,
    ImpactStatementSerializer,
    ImpactStatementWriteSerializer,
    IssueNoteSerializer,
    IssueNoteWriteSerializer,
    LaunchItemSerializer,
    LaunchItemWriteSerializer,
    PortfolioDecideSerializer,
    PortfolioEntrySerializer,
    PortfolioEntryWriteSerializer,
    PortfolioRankingSerializer,
    ProductLifecycleSerializer,
    ProductLifecycleWriteSerializer,
    RiskAppetiteSerializer,
    RiskAppetiteWriteSerializer,
    RiskSerializer,
    RiskWriteSerializer,
    ShipOverrideSerializer,
    StageChangeSerializer,
    StageProposalSerializer,
    StatementDecideSerializer,
    StatementSubmitSerializer,
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
    plain_object_actions = frozenset({"update", "partial_update", "notes"})  # answered by _read or the note
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
    """Each product's governance settings: its risk appetite and whether initiatives need an approved
    business impact statement before they are planned (admins set them). POST names the product
    (first setting); PUT/PATCH name the `version` read. A product without a row has the default
    appetite, 12, and requires no statement."""

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
            raise ValidationError({"product": ["This product's settings exist already: update them (PATCH)."]})
        row = self._save(product, data, version=None)
        return Response(RiskAppetiteSerializer(row).data, status=status.HTTP_201_CREATED)

    def _save(self, product, data, version):
        """Both settings in one transaction, the row's version claimed once."""
        with transaction.atomic():
            row = services.appetite_set(user=self.request.user, product=product, version=version,
                                        appetite=data.get("risk_appetite", selectors.appetite_of(product=product)))
            if "require_impact_statement" in data and data["require_impact_statement"] != row.require_impact_statement:
                row = services.statement_requirement_set(user=self.request.user, product=product,
                                                         required=data["require_impact_statement"], version=row.version)
            if "stage" in data and data["stage"] != row.stage:
                row = services.stage_set(user=self.request.user, product=product, stage=data["stage"],
                                         version=row.version)
        return row

    @extend_schema(request=RiskAppetiteWriteSerializer, responses=RiskAppetiteSerializer)
    def update(self, request, *args, **kwargs):
        row = self.get_object()
        data = _valid(RiskAppetiteWriteSerializer, request, partial=kwargs.get("partial", False))
        row = self._save(row.product, data, version=self.expected_version(row))
        return Response(RiskAppetiteSerializer(row).data)

    @extend_schema(request=RiskAppetiteWriteSerializer, responses=RiskAppetiteSerializer)
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)


class ImpactStatementViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                             mixins.CreateModelMixin, mixins.UpdateModelMixin):
    """Business impact statements of initiatives and change requests, with every revision and
    decision. POST writes the first revision (name `initiative` or `change_request`); PUT/PATCH
    write the next one (naming the `version` read). `submit/` asks for approval; `decide/` is for
    the approvers (`decision` approved or rejected, `comment` required to reject)."""

    workspace_field = "product__workspace"
    serializer_class = ImpactStatementSerializer
    write_serializer_class = ImpactStatementWriteSerializer
    action_roles = READ_ROLES | {"create": Role.EDITOR, "update": Role.EDITOR, "partial_update": Role.EDITOR,
                                 "submit": Role.EDITOR, "decide": Role.EDITOR}
    plain_object_actions = frozenset({"update", "partial_update", "submit", "decide"})  # answered by _read
    filterset_fields = ["product", "initiative", "status"]

    def base_queryset(self):
        return (ImpactStatement.objects.filter(product__deleted_at__isnull=True)
                .prefetch_related("approvers",
                                  Prefetch("revisions", queryset=ImpactRevision.objects.order_by("-number")),
                                  Prefetch("decisions", queryset=ImpactDecision.objects.order_by("-created_at", "-id")))
                .order_by("-id"))

    def _read(self, statement):
        return ImpactStatementSerializer(self.base_queryset().get(pk=statement.pk)).data

    @extend_schema(request=ImpactStatementWriteSerializer, responses={201: ImpactStatementSerializer})
    def create(self, request, *args, **kwargs):
        data = dict(_valid(ImpactStatementWriteSerializer, request))
        initiative, change_request = data.pop("initiative", None), data.pop("change_request", None)
        if (initiative is None) == (change_request is None):
            raise ValidationError({"initiative": ["Name an initiative or a change request (one of them)."]})
        product_id = initiative.product_id if initiative else change_request.release.product_id
        product = product_for_user(user=request.user, product_id=product_id)
        data.pop("version", None)
        statement = services.statement_save(user=request.user, product=product, data=data, initiative=initiative,
                                            change_request=change_request)
        return Response(self._read(statement), status=status.HTTP_201_CREATED)

    @extend_schema(request=ImpactStatementWriteSerializer, responses=ImpactStatementSerializer)
    def update(self, request, *args, **kwargs):
        statement = self.get_object()
        data = dict(_valid(ImpactStatementWriteSerializer, request))
        for key in ("initiative", "change_request", "version"):
            data.pop(key, None)
        services.statement_save(user=request.user, product=statement.product, data=data, statement=statement,
                                version=self.expected_version(statement))
        return Response(self._read(statement))

    @extend_schema(request=ImpactStatementWriteSerializer, responses=ImpactStatementSerializer)
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, **kwargs)

    @extend_schema(request=StatementSubmitSerializer, responses=ImpactStatementSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        statement = self.get_object()
        _valid(StatementSubmitSerializer, request)
        services.statement_submit(user=request.user, statement=statement, version=self.expected_version(statement))
        return Response(self._read(statement))

    @extend_schema(request=StatementDecideSerializer, responses=ImpactStatementSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        statement = self.get_object()
        data = _valid(StatementDecideSerializer, request)
        services.statement_decide(user=request.user, statement=statement, decision=data["decision"],
                                  comment=data.get("comment", ""), version=self.expected_version(statement))
        return Response(self._read(statement))


class LaunchItemViewSet(ScopedViewSet, *CRUD_MIXINS):
    """Launch checklist items of your releases. Filter with `?release=`. `done` true ticks an item
    (who and when are kept), false reopens it. Updates name the `version` read."""

    workspace_field = "release__product__workspace"
    serializer_class = LaunchItemSerializer
    write_serializer_class = LaunchItemWriteSerializer
    action_roles = CRUD_ROLES
    filterset_fields = ["release", "category", "required", "owner"]

    def base_queryset(self):
        return LaunchItem.objects.filter(release__product__deleted_at__isnull=True).order_by("release_id", "position",
                                                                                              "id")

    @extend_schema(request=LaunchItemWriteSerializer, responses={201: LaunchItemSerializer})
    def create(self, request, *args, **kwargs):
        from roadmaps.models import Release

        data = dict(_valid(LaunchItemWriteSerializer, request))
        release = Release.objects.filter(pk=data.pop("release", None), product__deleted_at__isnull=True,
                                         product__workspace_id__in=_workspace_ids(request.user)).first()
        if release is None:
            raise ValidationError({"release": ["Unknown release."]})
        data.pop("version", None)
        data.pop("done", None)
        item = services.launch_item_create(user=request.user, release=release, data=data)
        return Response(LaunchItemSerializer(item).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=LaunchItemWriteSerializer, responses=LaunchItemSerializer)
    def update(self, request, *args, **kwargs):
        item = self.get_object()
        data = dict(_valid(LaunchItemWriteSerializer, request, partial=kwargs.get("partial", False)))
        data.pop("release", None)
        data.pop("version", None)
        services.launch_item_update(user=request.user, item=item, data=data, version=self.expected_version(item))
        item.refresh_from_db()
        return Response(LaunchItemSerializer(item).data)

    @extend_schema(request=LaunchItemWriteSerializer, responses=LaunchItemSerializer)
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def destroy(self, request, *args, **kwargs):
        services.launch_item_delete(user=request.user, item=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


def _workspace_ids(user):
    from pmhub.access import workspace_ids_for

    return workspace_ids_for(user)


class ChecklistTemplateViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                               mixins.CreateModelMixin, mixins.DestroyModelMixin):
    """The workspace's launch checklist templates (admins write them); `apply/` copies one into a
    release's checklist (editors; an item of the same title already there is kept)."""

    workspace_field = "workspace"
    serializer_class = ChecklistTemplateSerializer
    write_serializer_class = ChecklistTemplateWriteSerializer
    action_roles = READ_ROLES | {"create": Role.ADMIN, "destroy": Role.ADMIN, "apply": Role.EDITOR}
    filterset_fields = ["workspace"]

    def base_queryset(self):
        return ChecklistTemplate.objects.prefetch_related("items").order_by("name", "id")

    @extend_schema(request=ChecklistTemplateWriteSerializer, responses={201: ChecklistTemplateSerializer})
    def create(self, request, *args, **kwargs):
        from pmhub.models import Workspace

        data = _valid(ChecklistTemplateWriteSerializer, request)
        workspace = Workspace.objects.filter(pk=data["workspace"], pk__in=_workspace_ids(request.user)).first()
        if workspace is None:
            raise ValidationError({"workspace": ["Unknown workspace."]})
        template = services.template_create(user=request.user, workspace=workspace, name=data["name"],
                                            items=[dict(i) for i in data["items"]])
        return Response(ChecklistTemplateSerializer(self.base_queryset().get(pk=template.pk)).data,
                        status=status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs):
        services.template_delete(user=request.user, template=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=ApplyTemplateSerializer, responses=ApplyTemplateResultSerializer)
    @action(detail=True, methods=["post"])
    def apply(self, request, pk=None):
        from roadmaps.models import Release

        template = self.get_object()
        data = _valid(ApplyTemplateSerializer, request)
        release = Release.objects.filter(pk=data["release"], product__deleted_at__isnull=True,
                                         product__workspace_id=template.workspace_id).select_related("product").first()
        if release is None:
            raise ValidationError({"release": ["Unknown release."]})
        added = services.checklist_apply_template(user=request.user, release=release, template=template)
        return Response({"added": added})


class ShipOverrideViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Releases shipped with open required launch items: who, the reason, the open items."""

    workspace_field = "release__product__workspace"
    serializer_class = ShipOverrideSerializer
    action_roles = READ_ROLES
    filterset_fields = ["release"]

    def base_queryset(self):
        return ShipOverride.objects.filter(release__product__deleted_at__isnull=True).order_by("-id")


class PortfolioEntryViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                            mixins.CreateModelMixin, mixins.UpdateModelMixin):
    """Initiatives' portfolio inputs (value, time criticality, risk reduction 1-10; cost in
    person-weeks) and decisions. `decide/` (admins): fund, defer or stop with a reason. The
    ranking is `portfolio-ranking/?workspace=`."""

    workspace_field = "initiative__product__workspace"
    serializer_class = PortfolioEntrySerializer
    write_serializer_class = PortfolioEntryWriteSerializer
    action_roles = READ_ROLES | {"create": Role.EDITOR, "update": Role.EDITOR, "partial_update": Role.EDITOR,
                                 "decide": Role.ADMIN}
    filterset_fields = ["initiative", "decision"]

    def base_queryset(self):
        return PortfolioEntry.objects.filter(initiative__product__deleted_at__isnull=True).order_by("id")

    @extend_schema(request=PortfolioEntryWriteSerializer, responses={201: PortfolioEntrySerializer})
    def create(self, request, *args, **kwargs):
        data = dict(_valid(PortfolioEntryWriteSerializer, request))
        initiative = data.pop("initiative", None)
        if initiative is None:
            raise ValidationError({"initiative": ["This field is required."]})
        if PortfolioEntry.objects.filter(initiative=initiative).exists():
            raise ValidationError({"initiative": ["It has inputs already: update them."]})
        data.pop("version", None)
        entry = services.portfolio_entry_save(user=request.user, initiative=initiative, data=data, version=None)
        return Response(PortfolioEntrySerializer(entry).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=PortfolioEntryWriteSerializer, responses=PortfolioEntrySerializer)
    def update(self, request, *args, **kwargs):
        entry = self.get_object()
        data = dict(_valid(PortfolioEntryWriteSerializer, request, partial=True))
        data.pop("initiative", None)
        data.pop("version", None)
        entry = services.portfolio_entry_save(user=request.user, initiative=entry.initiative, data=data,
                                              version=self.expected_version(entry))
        return Response(PortfolioEntrySerializer(entry).data)

    @extend_schema(request=PortfolioEntryWriteSerializer, responses=PortfolioEntrySerializer)
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, **kwargs)

    @extend_schema(request=PortfolioDecideSerializer, responses=PortfolioEntrySerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        entry = self.get_object()
        data = _valid(PortfolioDecideSerializer, request)
        entry = services.portfolio_decide(user=request.user, initiative=entry.initiative, decision=data["decision"],
                                          reason=data["reason"], version=self.expected_version(entry))
        return Response(PortfolioEntrySerializer(entry).data)



class PortfolioRankingViewSet(ScopedViewSet):
    """`GET /api/v1/portfolio-ranking/?workspace=<id>`: every open initiative of the workspace's
    products ranked by its portfolio's scoring model, with demand against capacity per quarter.
    Another workspace's id is refused like a missing one (400)."""

    workspace_field = "id"
    action_roles = {"list": Role.VIEWER}
    queryset = ProductGovernance.objects.none()  # the ranking is computed, not a model list

    @extend_schema(responses=PortfolioRankingSerializer,
                   parameters=[OpenApiParameter("workspace", int, required=True)])
    def list(self, request):
        from pmhub.models import Workspace

        workspace = Workspace.objects.filter(pk=_int_param(request.query_params.get("workspace")),
                                             pk__in=_workspace_ids(request.user)).first()
        if workspace is None:
            raise ValidationError({"workspace": ["Unknown workspace."]})
        data = selectors.portfolio_ranking(workspace=workspace)
        return Response(PortfolioRankingSerializer({"model": data["settings"].model, "rows": data["rows"],
                                                    "quarters": data["quarters"], "owners": data["owners"]}).data)


def _int_param(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class StageProposalViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """PMHub's lifecycle proposals (from months of falling adoption and KPIs) with their evidence;
    admins `accept/` (the product moves to the proposed stage) or `dismiss/` them."""

    workspace_field = "product__workspace"
    serializer_class = StageProposalSerializer
    action_roles = READ_ROLES | {"accept": Role.ADMIN, "dismiss": Role.ADMIN}
    filterset_fields = ["product", "status"]

    def base_queryset(self):
        return StageProposal.objects.filter(product__deleted_at__isnull=True).order_by("-id")

    @extend_schema(request=None, responses=StageProposalSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        return Response(StageProposalSerializer(services.proposal_decide(
            user=request.user, proposal=self.get_object(), accept=True)).data)

    @extend_schema(request=None, responses=StageProposalSerializer)
    @action(detail=True, methods=["post"])
    def dismiss(self, request, pk=None):
        return Response(StageProposalSerializer(services.proposal_decide(
            user=request.user, proposal=self.get_object(), accept=False)).data)


class ProductLifecycleViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                              mixins.UpdateModelMixin):
    """Each product's lifecycle stage, by product id: the stage (growth until set), its history
    and the open proposal. Admins PATCH/PUT `stage` (and a `reason`, kept in the history) with the
    `version` read; the move is recorded like one made on the Lifecycle page."""

    workspace_field = "workspace"
    serializer_class = ProductLifecycleSerializer
    write_serializer_class = ProductLifecycleWriteSerializer
    action_roles = READ_ROLES | {"update": Role.ADMIN, "partial_update": Role.ADMIN}
    plain_object_actions = frozenset({"update", "partial_update"})  # answered by a fresh read
    filterset_fields: list = []

    def base_queryset(self):
        from roadmaps.models import Product

        return (Product.objects.alive().select_related("governance")
                .prefetch_related(Prefetch("stage_changes", queryset=StageChange.objects.order_by("-id")),
                                  "stage_proposals")
                .order_by("id"))

    @extend_schema(request=ProductLifecycleWriteSerializer, responses=ProductLifecycleSerializer)
    def update(self, request, *args, **kwargs):
        product = self.get_object()
        data = _valid(ProductLifecycleWriteSerializer, request)
        version = self.expected_version(product)
        with transaction.atomic():
            # The resource is the product's lifecycle: the product's version is claimed (409 when
            # missing or stale, after the role check), then the stage is set on its governance row.
            services.stage_set_claiming_product(user=request.user, product=product, stage=data["stage"],
                                                reason=data.get("reason", ""), version=version)
        return Response(ProductLifecycleSerializer(self.base_queryset().get(pk=product.pk)).data)

    @extend_schema(request=ProductLifecycleWriteSerializer, responses=ProductLifecycleSerializer)
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, **kwargs)


class StageChangeViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """The lifecycle history of your products (set the stage with `product-lifecycle/`)."""

    workspace_field = "product__workspace"
    serializer_class = StageChangeSerializer
    action_roles = READ_ROLES
    filterset_fields = ["product"]

    def base_queryset(self):
        return StageChange.objects.filter(product__deleted_at__isnull=True).order_by("-id")
