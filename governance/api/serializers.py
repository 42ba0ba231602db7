"""API shapes of the governance app: read and write serializers apart; rules live in services."""

from decimal import Decimal

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from backlog.models import Epic
from delivery.models import ChangeRequest
from metrics.models import Kpi
from pmhub.access import workspace_ids_for
from pmhub.api import fields as bounded
from pmhub.api.serializers import version_field
from pmhub.models import User
from roadmaps.models import Initiative, Release

from ..models import (
    ChecklistTemplate,
    ChecklistTemplateItem,
    ImpactDecision,
    ImpactRevision,
    ImpactStatement,
    IssueNote,
    LaunchCategory,
    LaunchItem,
    PortfolioEntry,
    ProductGovernance,
    Risk,
    ShipOverride,
    StageChange,
    StageProposal,
)


@extend_schema_field(OpenApiTypes.INT)
class VisibleField(serializers.PrimaryKeyRelatedField):
    """An id among the requester's workspaces' objects: another workspace's id is "does not exist",
    like an id that exists nowhere (no existence leak). Services check the product."""

    def __init__(self, queryset_for, **kwargs):
        self.queryset_for = queryset_for
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        return self.queryset_for(workspace_ids_for(request.user) if request else [])


def choice_in_words(choices, **kwargs) -> serializers.ChoiceField:
    """A choice field described in words in the schema ("open, mitigating ..."), not as a named enum:
    `status` and `kind` are names many apps use, and drf-spectacular would collide their enums."""
    values = ", ".join(str(v) for v, _label in choices)

    @extend_schema_field({"type": "string", "description": f"One of: {values}."})
    class _Choice(serializers.ChoiceField):
        pass

    return _Choice(choices=choices, **kwargs)


def _in_ws(model):
    return lambda ids: model.objects.filter(product__workspace_id__in=ids)


class IssueNoteSerializer(serializers.ModelSerializer):
    class Meta:
        model = IssueNote
        fields = ["id", "author", "text", "created_at"]
        read_only_fields = fields


RISK_READ_FIELDS = ["id", "product", "kind", "title", "description", "likelihood", "impact", "score", "appetite",
                    "above_appetite", "owner", "mitigation", "due_date", "review_date", "status", "trend",
                    "initiatives", "releases", "epics", "kpis", "notes", "created_by", "version", "created_at",
                    "updated_at"]


class RiskSerializer(serializers.ModelSerializer):
    kind = choice_in_words(Risk.Kind.choices, read_only=True)
    status = choice_in_words(Risk.Status.choices, read_only=True)
    appetite = bounded.IntegerField(read_only=True, help_text="The product's risk appetite (highest acceptable score).")
    above_appetite = serializers.BooleanField(source="above", read_only=True,
                                              help_text="Open and scoring above the appetite.")
    notes = IssueNoteSerializer(many=True, read_only=True)

    class Meta:
        model = Risk
        fields = RISK_READ_FIELDS
        read_only_fields = RISK_READ_FIELDS


class RiskWriteSerializer(serializers.Serializer):
    product = bounded.IntegerField(required=False, help_text="Product id (create only).")
    kind = choice_in_words(Risk.Kind.choices, required=False)
    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    likelihood = bounded.IntegerField(min_value=1, max_value=5, required=False,
                                      help_text="1-5; an issue is always 5 (it has happened).")
    impact = bounded.IntegerField(min_value=1, max_value=5, required=False, help_text="1-5 (an issue's severity).")
    owner = VisibleField(lambda ids: User.objects.filter(memberships__workspace_id__in=ids).distinct(),
                         required=False, allow_null=True)
    mitigation = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    due_date = bounded.DateField(required=False, allow_null=True)
    review_date = bounded.DateField(required=False, allow_null=True)
    status = choice_in_words(Risk.Status.choices, required=False)
    trend = serializers.ChoiceField(choices=Risk.Trend.choices, required=False)
    initiatives = VisibleField(_in_ws(Initiative), many=True, required=False)
    releases = VisibleField(_in_ws(Release), many=True, required=False)
    epics = VisibleField(_in_ws(Epic), many=True, required=False)
    kpis = VisibleField(_in_ws(Kpi), many=True, required=False)
    version = version_field()


class IssueNoteWriteSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=2000)


class RiskAppetiteSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProductGovernance
        fields = ["id", "product", "risk_appetite", "require_impact_statement", "stage", "decline_periods", "version",
                  "updated_at"]
        read_only_fields = fields


class RiskAppetiteWriteSerializer(serializers.Serializer):
    product = bounded.IntegerField(required=False, help_text="Product id (create only).")
    risk_appetite = bounded.IntegerField(min_value=1, max_value=25, required=False)
    require_impact_statement = serializers.BooleanField(required=False)
    stage = choice_in_words([(s, s) for s in ("idea", "development", "introduction", "growth", "maturity", "decline",
                                               "retired")], required=False,
                            help_text="Lifecycle stage; retired stops the product's reports and ingestion.")
    version = version_field()


class ImpactRevisionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ImpactRevision
        fields = ["number", "benefit", "cost", "processes", "people", "risk", "assumptions", "author", "created_at"]
        read_only_fields = fields


class ImpactDecisionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ImpactDecision
        fields = ["id", "revision", "approver", "decision", "comment", "created_at"]
        read_only_fields = fields


class ImpactStatementSerializer(serializers.ModelSerializer):
    status = choice_in_words(ImpactStatement.Status.choices, read_only=True)
    revisions = ImpactRevisionSerializer(many=True, read_only=True, help_text="Every revision, newest first.")
    decisions = ImpactDecisionSerializer(many=True, read_only=True)

    class Meta:
        model = ImpactStatement
        fields = ["id", "product", "initiative", "change_request", "status", "revision", "approver_role", "approvers",
                  "requested_by", "submitted_at", "revisions", "decisions", "version", "created_at", "updated_at"]
        read_only_fields = fields


class ImpactStatementWriteSerializer(serializers.Serializer):
    initiative = VisibleField(_in_ws(Initiative), required=False, allow_null=True, help_text="Create only.")
    change_request = VisibleField(lambda ids: ChangeRequest.objects.filter(release__product__workspace_id__in=ids),
                                  required=False, allow_null=True, help_text="Create only (instead of an initiative).")
    benefit = serializers.CharField(max_length=5000)
    cost = bounded.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True, min_value=0)
    processes = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    people = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    risk = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    assumptions = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    approver_role = serializers.ChoiceField(choices=ImpactStatement.ApproverRole.choices, required=False,
                                            help_text="20: editors and admins, 30: admins (no approvers named).")
    approvers = VisibleField(lambda ids: User.objects.filter(memberships__workspace_id__in=ids).distinct(),
                             many=True, required=False)
    version = version_field()


class StatementSubmitSerializer(serializers.Serializer):
    version = version_field()


class StatementDecideSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=ImpactDecision.Decision.choices)
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True,
                                    help_text="Required to reject.")
    version = version_field()


class LaunchItemSerializer(serializers.ModelSerializer):
    done = serializers.BooleanField(read_only=True)

    class Meta:
        model = LaunchItem
        fields = ["id", "release", "category", "title", "required", "owner", "due_date", "position", "done",
                  "done_at", "done_by", "version", "created_at", "updated_at"]
        read_only_fields = fields


class LaunchItemWriteSerializer(serializers.Serializer):
    release = bounded.IntegerField(required=False, help_text="Release id (create only).")
    category = serializers.ChoiceField(choices=LaunchCategory.choices, required=False)
    title = serializers.CharField(max_length=200, required=False)
    required = serializers.BooleanField(required=False)
    owner = VisibleField(lambda ids: User.objects.filter(memberships__workspace_id__in=ids).distinct(),
                         required=False, allow_null=True)
    due_date = bounded.DateField(required=False, allow_null=True)
    position = bounded.IntegerField(required=False, min_value=0, max_value=1000)
    done = serializers.BooleanField(required=False, help_text="Tick (true) or reopen (false); who and when are kept.")
    version = version_field()


class ChecklistTemplateItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChecklistTemplateItem
        fields = ["category", "title", "required", "days_before"]


class ChecklistTemplateSerializer(serializers.ModelSerializer):
    items = ChecklistTemplateItemSerializer(many=True, read_only=True)

    class Meta:
        model = ChecklistTemplate
        fields = ["id", "workspace", "name", "items", "version", "created_at"]
        read_only_fields = fields


class ChecklistTemplateItemWriteSerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=LaunchCategory.choices, required=False)
    title = serializers.CharField(max_length=200)
    required = serializers.BooleanField(required=False, default=True)
    days_before = bounded.IntegerField(min_value=0, max_value=365, required=False, default=7)


class ChecklistTemplateWriteSerializer(serializers.Serializer):
    workspace = bounded.IntegerField(help_text="Workspace id.")
    name = serializers.CharField(max_length=120)
    items = ChecklistTemplateItemWriteSerializer(many=True, allow_empty=False, max_length=100)


class ApplyTemplateSerializer(serializers.Serializer):
    release = bounded.IntegerField(help_text="The release whose checklist receives the items.")


class ApplyTemplateResultSerializer(serializers.Serializer):
    added = bounded.IntegerField()


class ShipOverrideSerializer(serializers.ModelSerializer):
    class Meta:
        model = ShipOverride
        fields = ["id", "release", "actor", "reason", "open_items", "created_at"]
        read_only_fields = fields


class PortfolioEntrySerializer(serializers.ModelSerializer):
    decision = choice_in_words(PortfolioEntry.Decision.choices, read_only=True)

    class Meta:
        model = PortfolioEntry
        fields = ["id", "initiative", "value", "time_criticality", "risk_reduction", "cost", "decision", "reason",
                  "decided_by", "decided_at", "version", "updated_at"]
        read_only_fields = fields


class PortfolioEntryWriteSerializer(serializers.Serializer):
    initiative = VisibleField(_in_ws(Initiative), required=False, help_text="Create only.")
    value = bounded.IntegerField(min_value=1, max_value=10, required=False)
    time_criticality = bounded.IntegerField(min_value=1, max_value=10, required=False)
    risk_reduction = bounded.IntegerField(min_value=1, max_value=10, required=False)
    cost = bounded.DecimalField(max_digits=8, decimal_places=1, min_value=Decimal("0.1"), required=False,
                                help_text="Person-weeks.")
    version = version_field()


class PortfolioDecideSerializer(serializers.Serializer):
    decision = choice_in_words(PortfolioEntry.Decision.choices)
    reason = serializers.CharField(max_length=500)
    version = version_field()


class PortfolioRankingRowSerializer(serializers.Serializer):
    rank = bounded.IntegerField()
    initiative = bounded.IntegerField(source="id")
    title = serializers.CharField()
    product = bounded.IntegerField(source="product_id")
    score = bounded.DecimalField(source="portfolio_score", max_digits=12, decimal_places=2, allow_null=True)
    fit = bounded.IntegerField()
    risk = bounded.DecimalField(source="risk_points", max_digits=6, decimal_places=2)
    decision = serializers.SerializerMethodField()

    def get_decision(self, obj) -> str:
        return obj.entry.decision if obj.entry else ""


class PortfolioQuarterSerializer(serializers.Serializer):
    quarter = serializers.CharField(allow_null=True)
    demand = bounded.DecimalField(max_digits=12, decimal_places=1)
    capacity = bounded.DecimalField(max_digits=12, decimal_places=1, allow_null=True)
    over = serializers.BooleanField()


class PortfolioOwnerQuarterSerializer(serializers.Serializer):
    quarter = serializers.CharField(allow_null=True)
    demand = bounded.DecimalField(max_digits=12, decimal_places=1)
    share = bounded.DecimalField(max_digits=8, decimal_places=1, allow_null=True,
                                 help_text="Percent of the quarter's capacity; null without capacity.")


class PortfolioOwnerSerializer(serializers.Serializer):
    owner = serializers.CharField(allow_null=True, help_text="The initiatives' owner (PMHub has no teams); null: none.")
    demand = bounded.DecimalField(max_digits=12, decimal_places=1)
    quarters = PortfolioOwnerQuarterSerializer(many=True)


class PortfolioRankingSerializer(serializers.Serializer):
    model = serializers.CharField()
    rows = PortfolioRankingRowSerializer(many=True)
    quarters = PortfolioQuarterSerializer(many=True)
    owners = PortfolioOwnerSerializer(many=True)


class StageProposalSerializer(serializers.ModelSerializer):
    status = choice_in_words(StageProposal.Status.choices, read_only=True)

    class Meta:
        model = StageProposal
        fields = ["id", "product", "to_stage", "evidence", "status", "decided_by", "decided_at", "created_at"]
        read_only_fields = fields


class StageChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = StageChange
        fields = ["id", "product", "from_stage", "to_stage", "actor", "reason", "created_at"]
        read_only_fields = fields


LIFECYCLE_STAGES = [(s, s) for s in ("idea", "development", "introduction", "growth", "maturity", "decline",
                                     "retired")]


class ProductLifecycleSerializer(serializers.Serializer):
    """A product's lifecycle: its stage (growth until set), the product's version to send back
    (this resource is the product's: a stage change claims it), the history (newest first) and the
    open proposal, if any."""

    id = bounded.IntegerField(read_only=True, help_text="The product's id (the URL's).")
    product = bounded.IntegerField(source="id", read_only=True)
    name = serializers.CharField(read_only=True)
    stage = serializers.SerializerMethodField()
    version = serializers.SerializerMethodField()
    history = serializers.SerializerMethodField()
    proposal = serializers.SerializerMethodField()

    def _row(self, product):
        return getattr(product, "governance", None)

    def get_stage(self, product) -> str:
        row = self._row(product)
        return row.stage if row else "growth"

    def get_version(self, product) -> int:
        return product.version

    def get_history(self, product) -> list:
        return StageChangeSerializer(product.stage_changes.all(), many=True).data

    def get_proposal(self, product) -> dict | None:
        open_ = [p for p in product.stage_proposals.all() if p.status == StageProposal.Status.OPEN]
        return StageProposalSerializer(open_[0]).data if open_ else None


class ProductLifecycleWriteSerializer(serializers.Serializer):
    stage = choice_in_words(LIFECYCLE_STAGES, help_text="Lifecycle stage; retired stops the product's reports and "
                                                        "ingestion.")
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True,
                                   help_text="Why (kept in the history).")
    version = version_field()
