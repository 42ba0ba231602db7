"""Shapes of the roadmaps API: read serializers render selectors' annotated rows, write
serializers validate input and hand it to services."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from pmhub.access import workspace_ids_for
from pmhub.api import fields as bounded
from pmhub.api.serializers import WorkProgressSerializer, version_field
from pmhub.models import User, Workspace

from .. import selectors
from ..models import (
    BusinessCase,
    Capability,
    Competitor,
    Dependency,
    Initiative,
    KeyResult,
    Level,
    Objective,
    Product,
    Release,
    RoadmapSnapshot,
    Segment,
    ShareLink,
)


def _work(obj) -> dict | None:
    work = getattr(obj, "work", None)
    return None if work is None else work.as_dict()


def enum_field(choices, **kwargs):
    """A ChoiceField documented as a string with a pattern of its values, not as an enum component:
    choice sets sharing a field name across apps ("status", "level") would otherwise collide in the
    OpenAPI schema (drf-spectacular's enum naming), and ENUM_NAME_OVERRIDES is project-wide."""
    values = [value for value, _ in choices]
    pattern = "^(" + "|".join(values) + ")$" if not kwargs.get("allow_blank") else "^(" + "|".join(values) + ")?$"
    schema = {"type": "string", "pattern": pattern, "description": "One of: " + ", ".join(values) + "."}
    field_class = extend_schema_field(schema)(type("InlineChoiceField", (serializers.ChoiceField,), {}))
    if kwargs.pop("allow_blank", False):
        # "" as one more choice rather than allow_blank, which drf-spectacular documents as a
        # oneOf beside the pattern: "" would then match both branches and break the oneOf.
        choices = [*choices, ("", "")]
    return field_class(choices=choices, **kwargs)


@extend_schema_field(OpenApiTypes.INT)
class ScopedField(serializers.PrimaryKeyRelatedField):
    """A foreign key limited to what the requesting user may see (foreign ids are 'not found')."""

    def __init__(self, selector, **kwargs):
        self.selector = selector
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        if request is None:
            return Product.objects.none()
        return self.selector(user=request.user)


def product_field(**kw):
    return ScopedField(selectors.products_for_user, **kw)


@extend_schema_field(OpenApiTypes.INT)
class KpiField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        from metrics.models import Kpi

        request = self.context.get("request")
        ids = workspace_ids_for(request.user) if request else []
        return Kpi.objects.filter(product__workspace_id__in=ids)


@extend_schema_field(OpenApiTypes.INT)
class MemberField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        request = self.context.get("request")
        ids = workspace_ids_for(request.user) if request else []
        return User.objects.filter(memberships__workspace_id__in=ids).distinct()


# --- products ----------------------------------------------------------------------------------
class BusinessCaseSerializer(serializers.ModelSerializer):
    class Meta:
        model = BusinessCase
        fields = ["problem", "expected_value", "cost", "risks"]


class ProductSerializer(serializers.ModelSerializer):
    business_case = serializers.SerializerMethodField()

    class Meta:
        model = Product
        fields = ["id", "workspace", "name", "vision", "business_case", "deleted_at", "version", "created_at",
                  "updated_at"]
        read_only_fields = ["version"]

    @extend_schema_field(BusinessCaseSerializer)
    def get_business_case(self, obj):
        try:
            case = obj.business_case
        except BusinessCase.DoesNotExist:
            case = BusinessCase()
        return BusinessCaseSerializer(case).data


class ProductWriteSerializer(serializers.Serializer):
    workspace = serializers.PrimaryKeyRelatedField(queryset=Workspace.objects.all(), required=True)
    name = serializers.CharField(max_length=120)
    vision = serializers.CharField(required=False, allow_blank=True)
    business_case = BusinessCaseSerializer(required=False)
    version = version_field()

    def validate_workspace(self, value):
        if value.id not in workspace_ids_for(self.context["request"].user):
            raise serializers.ValidationError("Choose one of your workspaces.")
        return value


class ProductUpdateSerializer(ProductWriteSerializer):
    workspace = None


class SegmentSerializer(serializers.ModelSerializer):
    version = version_field()
    product = product_field()

    class Meta:
        model = Segment
        fields = ["id", "product", "name", "needs", "size", "version", "created_at"]
        read_only_fields = ["created_at"]


class CompetitorSerializer(serializers.ModelSerializer):
    version = version_field()
    product = product_field()
    capabilities = serializers.SerializerMethodField()

    class Meta:
        model = Competitor
        fields = ["id", "product", "name", "strengths", "weaknesses", "capabilities", "version", "created_at"]
        read_only_fields = ["created_at"]

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "string", "pattern": "^(yes|partial|no)$"},
                          "description": "Level per capability id."})
    def get_capabilities(self, obj) -> dict:
        return {str(r.capability_id): r.level for r in obj.ratings.all()}


class RatingSerializer(serializers.Serializer):
    capability = ScopedField(selectors.capabilities_for_user)
    level = enum_field(Level.choices)


class CapabilitySerializer(serializers.ModelSerializer):
    version = version_field()
    product = product_field()
    ours = enum_field(Level.choices, required=False)

    class Meta:
        model = Capability
        fields = ["id", "product", "name", "ours", "version"]
        # Duplicates are the service's to refuse, so a race's loser and a single duplicate get one message.
        validators = []


# --- objectives --------------------------------------------------------------------------------
class KeyResultSerializer(serializers.ModelSerializer):
    version = version_field()
    objective = ScopedField(selectors.objectives_for_user)
    owner = MemberField(required=False, allow_null=True)
    kpi = KpiField(required=False, allow_null=True)
    # The linked KPI's current value when there is one: a decimal string like the other values.
    current = serializers.DecimalField(max_digits=18, decimal_places=4, read_only=True)
    progress = serializers.SerializerMethodField()

    class Meta:
        model = KeyResult
        fields = ["id", "objective", "title", "start_value", "target_value", "current_value", "current", "unit",
                  "owner", "kpi", "progress", "version"]

    def get_progress(self, obj) -> float:
        return round(obj.progress, 4)


class ObjectiveSerializer(serializers.ModelSerializer):
    version = version_field()
    product = product_field()
    key_results = KeyResultSerializer(many=True, read_only=True)
    quarter = serializers.CharField(required=False, allow_blank=True, max_length=7)
    start_date = bounded.DateField(required=False, allow_null=True)
    end_date = bounded.DateField(required=False, allow_null=True)

    class Meta:
        model = Objective
        fields = ["id", "product", "title", "description", "quarter", "start_date", "end_date", "key_results",
                  "work", "version"]

    work = serializers.SerializerMethodField(help_text="Work progress of the initiatives' epics' stories.")

    @extend_schema_field(WorkProgressSerializer(allow_null=True))
    def get_work(self, obj):
        return _work(obj)


# --- initiatives ---------------------------------------------------------------------------------
class DependencySerializer(serializers.ModelSerializer):
    blocker = ScopedField(selectors.initiatives_for_user)
    blocked = ScopedField(selectors.initiatives_for_user)
    conflict = serializers.BooleanField(read_only=True)

    class Meta:
        model = Dependency
        fields = ["id", "blocker", "blocked", "conflict", "created_at"]
        # Duplicates are the service's to refuse, so a race's loser and a single duplicate get one message.
        validators = []
        read_only_fields = ["created_at"]


class DependencyBriefSerializer(serializers.Serializer):
    id = bounded.IntegerField()
    initiative = bounded.IntegerField()
    conflict = serializers.BooleanField()


class InitiativeSerializer(serializers.ModelSerializer):
    status = enum_field(Initiative.Status.choices, read_only=True)
    horizon = enum_field(Initiative.Horizon.choices, read_only=True, allow_blank=True)
    labels = serializers.SerializerMethodField()
    objectives = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()
    work = serializers.SerializerMethodField()
    blocked_by = serializers.SerializerMethodField()
    blocks = serializers.SerializerMethodField()
    conflict = serializers.SerializerMethodField()

    class Meta:
        model = Initiative
        fields = ["id", "product", "title", "description", "status", "owner", "start_date", "end_date", "horizon",
                  "labels", "objectives", "confidence", "release", "rank", "progress", "work", "blocked_by", "blocks",
                  "conflict", "version", "created_at", "updated_at"]

    def get_labels(self, obj) -> list[str]:
        return obj.label_list

    def get_objectives(self, obj) -> list[int]:
        return [o.id for o in obj.objectives.all()]

    def get_progress(self, obj) -> float | None:
        return initiative_progress(obj)

    @extend_schema_field(WorkProgressSerializer(allow_null=True))
    def get_work(self, obj):
        return _work(obj)

    @extend_schema_field(DependencyBriefSerializer(many=True))
    def get_blocked_by(self, obj):
        return [{"id": d.id, "initiative": d.blocker_id, "conflict": d.conflict} for d in obj.blocked_by.all()]

    @extend_schema_field(DependencyBriefSerializer(many=True))
    def get_blocks(self, obj):
        return [{"id": d.id, "initiative": d.blocked_id, "conflict": d.conflict} for d in obj.blocks.all()]

    def get_conflict(self, obj) -> bool:
        return any(d.conflict for d in obj.blocked_by.all()) or any(d.conflict for d in obj.blocks.all())


def initiative_progress(obj) -> float | None:
    """`work.ratio` rounded to 4 places (null when there is no story, or it was not attached)."""
    work = getattr(obj, "work", None)
    value = None if work is None else work.ratio
    return None if value is None else round(value, 4)


class InitiativeWriteSerializer(serializers.Serializer):
    product = product_field()
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    status = enum_field(Initiative.Status.choices, required=False)
    owner = MemberField(required=False, allow_null=True)
    start_date = bounded.DateField(required=False, allow_null=True)
    end_date = bounded.DateField(required=False, allow_null=True)
    horizon = enum_field(Initiative.Horizon.choices, required=False, allow_blank=True)
    labels = serializers.ListField(child=serializers.CharField(max_length=40), required=False, max_length=20)
    objectives = serializers.ListField(child=ScopedField(selectors.objectives_for_user), required=False)
    confidence = bounded.IntegerField(required=False, min_value=0, max_value=100)
    release = ScopedField(selectors.releases_for_user, required=False, allow_null=True)
    rank = bounded.FloatField(required=False)


class InitiativeUpdateSerializer(InitiativeWriteSerializer):
    product = None
    version = version_field()


class InitiativeMoveSerializer(serializers.Serializer):
    version = bounded.IntegerField(min_value=1)
    horizon = enum_field(Initiative.Horizon.choices, required=False, allow_blank=True)
    rank = bounded.FloatField(required=False)
    start_date = bounded.DateField(required=False)
    end_date = bounded.DateField(required=False)


# --- releases ------------------------------------------------------------------------------------
class ReleaseShipSerializer(serializers.Serializer):
    override_reason = serializers.CharField(max_length=500, required=False, allow_blank=True,
                                            help_text="Why ship although required launch items are open (recorded).")


class ReleaseSerializer(serializers.ModelSerializer):
    version = version_field()
    product = product_field()
    status = enum_field(Release.Status.choices, required=False)
    kind = enum_field(Release.Kind.choices, required=False)
    progress = serializers.SerializerMethodField()
    work = serializers.SerializerMethodField()

    class Meta:
        model = Release
        fields = ["id", "product", "name", "description", "kind", "release_date", "status", "released_at",
                  "progress", "work", "version"]
        read_only_fields = ["released_at"]

    def get_progress(self, obj) -> float | None:
        return initiative_progress(obj)

    @extend_schema_field(WorkProgressSerializer(allow_null=True))
    def get_work(self, obj):
        return _work(obj)


class ReleaseScopeSerializer(serializers.Serializer):
    initiatives = serializers.ListField(child=bounded.IntegerField(), required=False, default=list)
    epics = serializers.ListField(child=bounded.IntegerField(), required=False, default=list)
    unassign = serializers.BooleanField(required=False, default=False)


# --- snapshots and share links ----------------------------------------------------------------------
class SnapshotSerializer(serializers.ModelSerializer):
    product = product_field()
    data = serializers.JSONField(read_only=True)

    class Meta:
        model = RoadmapSnapshot
        fields = ["id", "product", "name", "data", "created_by", "created_at"]
        read_only_fields = ["created_by", "created_at"]


class DiffSerializer(serializers.Serializer):
    added = serializers.ListField(child=serializers.DictField())
    removed = serializers.ListField(child=serializers.DictField())
    moved = serializers.ListField(child=serializers.DictField())
    status_changed = serializers.ListField(child=serializers.DictField())
    horizon_changed = serializers.ListField(child=serializers.DictField())


class ShareFiltersSerializer(serializers.Serializer):
    """The initiatives a share link shows (roadmaps.services.share_filters_clean checks that the
    objective and release are the product's). An unknown key is a field error, not ignored."""

    status = serializers.ChoiceField(choices=Initiative.Status.choices, required=False, allow_blank=True)
    horizon = serializers.ChoiceField(choices=Initiative.Horizon.choices, required=False, allow_blank=True)
    objective = bounded.IntegerField(min_value=1, required=False, allow_null=True)
    release = bounded.IntegerField(min_value=1, required=False, allow_null=True)
    label = serializers.CharField(max_length=40, required=False, allow_blank=True)

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(str(k)[:40] for k in data if k not in self.fields)
            if unknown:
                raise serializers.ValidationError({k: ["Unknown filter."] for k in unknown})
        return super().to_internal_value(data)


class ShareLinkSerializer(serializers.ModelSerializer):
    product = product_field()
    active = serializers.SerializerMethodField()
    filters = serializers.DictField(read_only=True)

    class Meta:
        model = ShareLink
        fields = ["id", "product", "label", "view", "filters", "allow_present", "prefix", "expires_at", "revoked_at",
                  "active", "created_at"]
        read_only_fields = ["view", "allow_present", "prefix", "expires_at", "revoked_at", "created_at"]

    def get_active(self, obj) -> bool:
        from django.utils import timezone

        return obj.is_active(timezone.now())


class ShareLinkWriteSerializer(serializers.Serializer):
    product = product_field()
    label = serializers.CharField(required=False, allow_blank=True, max_length=120)
    days = bounded.IntegerField(min_value=1, max_value=365, default=30)
    view = serializers.ChoiceField(choices=ShareLink.View.choices, default=ShareLink.View.TIMELINE)
    filters = ShareFiltersSerializer(required=False)
    allow_present = serializers.BooleanField(default=False)


class ShareLinkCreatedSerializer(ShareLinkSerializer):
    token = serializers.CharField(read_only=True)
    url = serializers.CharField(read_only=True)

    class Meta(ShareLinkSerializer.Meta):
        fields = ShareLinkSerializer.Meta.fields + ["token", "url"]


# --- timeline ----------------------------------------------------------------------------------------
class TimelineInitiativeSerializer(serializers.Serializer):
    id = bounded.IntegerField()
    title = serializers.CharField()
    status = serializers.CharField()
    horizon = serializers.CharField()
    owner = bounded.IntegerField(allow_null=True, source="owner_id")
    start_date = bounded.DateField(allow_null=True)
    end_date = bounded.DateField(allow_null=True)
    labels = serializers.ListField(child=serializers.CharField(), source="label_list")
    objectives = serializers.SerializerMethodField()
    release = bounded.IntegerField(allow_null=True, source="release_id")
    progress = serializers.SerializerMethodField()
    work = serializers.SerializerMethodField()
    version = bounded.IntegerField()

    def get_objectives(self, obj) -> list[int]:
        return [o.id for o in obj.objectives.all()]

    def get_progress(self, obj) -> float | None:
        return initiative_progress(obj)

    @extend_schema_field(WorkProgressSerializer(allow_null=True))
    def get_work(self, obj):
        return _work(obj)


class TimelineDependencySerializer(serializers.Serializer):
    id = bounded.IntegerField()
    blocker = bounded.IntegerField(source="blocker_id")
    blocked = bounded.IntegerField(source="blocked_id")
    conflict = serializers.BooleanField()


class TimelineReleaseSerializer(serializers.Serializer):
    id = bounded.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    release_date = bounded.DateField(allow_null=True)
    status = serializers.CharField()
    progress = serializers.SerializerMethodField()
    work = serializers.SerializerMethodField()

    def get_progress(self, obj) -> float | None:
        return initiative_progress(obj)

    @extend_schema_field(WorkProgressSerializer(allow_null=True))
    def get_work(self, obj):
        return _work(obj)


class TimelineSerializer(serializers.Serializer):
    product = bounded.IntegerField()
    initiatives = TimelineInitiativeSerializer(many=True)
    dependencies = TimelineDependencySerializer(many=True)
    releases = TimelineReleaseSerializer(many=True)


class InitiativeWorkSerializer(serializers.Serializer):
    """Take epics or stories into an initiative (POST .../take/) or release them (POST
    .../release-work/). Stories are taken into `epic`, one of the initiative's epics."""

    epics = serializers.ListField(child=bounded.IntegerField(), required=False, default=list, max_length=500)
    stories = serializers.ListField(child=bounded.IntegerField(), required=False, default=list, max_length=500)
    epic = bounded.IntegerField(required=False, allow_null=True,
                                    help_text="The initiative's epic that taken stories go into.")

    def validate(self, attrs):
        if not attrs["epics"] and not attrs["stories"]:
            raise serializers.ValidationError({"epics": ["Choose epics or stories."]})
        return attrs


class WorkEpicSerializer(serializers.Serializer):
    id = bounded.IntegerField()
    title = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    release = bounded.IntegerField(source="release_id", allow_null=True)
    version = bounded.IntegerField()
    work = serializers.SerializerMethodField()

    @extend_schema_field(WorkProgressSerializer)
    def get_work(self, obj):
        return _work(obj)


class WorkStorySerializer(serializers.Serializer):
    id = bounded.IntegerField()
    title = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    points = bounded.IntegerField(allow_null=True)
    epic = bounded.IntegerField(source="epic_id")
    version = bounded.IntegerField()


class InitiativeWorkReadSerializer(serializers.Serializer):
    initiative = bounded.IntegerField()
    work = WorkProgressSerializer()
    epics = WorkEpicSerializer(many=True)
    stories = WorkStorySerializer(many=True)
