"""API shapes of the metrics app: read and write serializers apart; rules live in services."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from backlog.models import Epic
from pmhub.access import workspace_ids_for
from pmhub.api import fields as bounded
from pmhub.api.serializers import version_field
from pmhub.models import User
from roadmaps.models import Initiative

from ..models import ActionPlan, Health, Kpi, KpiHealth, Measurement


# Choice sets named once in the schema (HealthEnum on Kpi.health, ActionPlanStatusEnum on the plan);
# elsewhere they are described in words, so drf-spectacular sees no enum naming collision.
@extend_schema_field({"type": "string", "description": "unknown, on_track, at_risk or off_track."})
class HealthStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=Health.choices, **kwargs)


@extend_schema_field({"type": "string", "description": "open, in_progress or closed."})
class PlanStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=ActionPlan.Status.choices, **kwargs)


@extend_schema_field(OpenApiTypes.INT)
class VisibleField(serializers.PrimaryKeyRelatedField):
    """An id among the objects of the requester's workspaces (the token's one, with a token). An id of
    another workspace is "does not exist", like an id that exists nowhere: the answer must not tell
    which ids exist elsewhere. Services still check the object belongs to the KPI's own product."""

    def __init__(self, queryset_for, **kwargs):
        self.queryset_for = queryset_for
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        return self.queryset_for(workspace_ids_for(request.user) if request else [])


def _members(ids):
    return User.objects.filter(memberships__workspace_id__in=ids).distinct()


KPI_READ_FIELDS = ["id", "product", "name", "description", "unit", "direction", "aggregation", "cadence", "owner",
                   "target_value", "target_date", "baseline_value", "baseline_date", "warning_threshold",
                   "critical_threshold", "current_value", "current_at", "health", "health_at", "initiatives",
                   "epics", "version", "created_at", "updated_at"]


class KpiSerializer(serializers.ModelSerializer):
    class Meta:
        model = Kpi
        fields = KPI_READ_FIELDS
        read_only_fields = KPI_READ_FIELDS


class KpiWriteSerializer(serializers.Serializer):
    product = bounded.IntegerField(required=False, help_text="Product id (create only).")
    name = serializers.CharField(max_length=120, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    unit = serializers.ChoiceField(choices=Kpi.Unit.choices, required=False)
    direction = serializers.ChoiceField(choices=Kpi.Direction.choices, required=False)
    aggregation = serializers.ChoiceField(choices=Kpi.Aggregation.choices, required=False)
    cadence = serializers.ChoiceField(choices=Kpi.Cadence.choices, required=False)
    owner = VisibleField(_members, required=False, allow_null=True)
    target_value = bounded.DecimalField(max_digits=18, decimal_places=4, required=False, allow_null=True)
    target_date = bounded.DateField(required=False, allow_null=True)
    baseline_value = bounded.DecimalField(max_digits=18, decimal_places=4, required=False, allow_null=True)
    baseline_date = bounded.DateField(required=False, allow_null=True)
    warning_threshold = bounded.DecimalField(max_digits=18, decimal_places=4, required=False, allow_null=True)
    critical_threshold = bounded.DecimalField(max_digits=18, decimal_places=4, required=False, allow_null=True)
    initiatives = VisibleField(lambda ids: Initiative.objects.filter(product__workspace_id__in=ids), many=True,
                               required=False)
    epics = VisibleField(lambda ids: Epic.objects.filter(product__workspace_id__in=ids), many=True, required=False)
    version = version_field()


class MeasurementSerializer(serializers.ModelSerializer):
    class Meta:
        model = Measurement
        fields = ["id", "kpi", "period_start", "value", "source", "created_at", "updated_at"]
        read_only_fields = fields


class MeasurementWriteSerializer(serializers.Serializer):
    kpi = bounded.IntegerField()
    period = bounded.DateField(required=False, help_text="Any day of the period (cut to the KPI's cadence).")
    timestamp = bounded.DateTimeField(required=False, help_text="Cut into the workspace's local period.")
    value = bounded.DecimalField(max_digits=18, decimal_places=4)

    def validate(self, attrs):
        if "period" not in attrs and "timestamp" not in attrs:
            raise serializers.ValidationError({"period": "Give a period (date) or a timestamp."})
        return attrs


class MeasurementBulkSerializer(serializers.Serializer):
    items = MeasurementWriteSerializer(many=True, allow_empty=False, max_length=5000)


class MeasurementBulkResultSerializer(serializers.Serializer):
    written = bounded.IntegerField(help_text="Periods written (inserted or updated).")


class KpiHealthSerializer(serializers.ModelSerializer):
    status = HealthStatusField(read_only=True)
    previous_status = HealthStatusField(read_only=True)

    class Meta:
        model = KpiHealth
        fields = ["id", "kpi", "status", "previous_status", "value", "expected_value", "as_of", "reason",
                  "evaluated_at"]
        read_only_fields = fields


class ActionPlanSerializer(serializers.ModelSerializer):
    class Meta:
        model = ActionPlan
        fields = ["id", "kpi", "owner", "title", "steps", "due_date", "status", "closed_at", "closed_reason",
                  "version", "created_at", "updated_at"]
        read_only_fields = fields


class ActionPlanWriteSerializer(serializers.Serializer):
    kpi = bounded.IntegerField(required=False, help_text="On create only.")
    owner = VisibleField(_members, required=False, allow_null=True)
    title = serializers.CharField(max_length=200, required=False)
    steps = serializers.CharField(required=False, allow_blank=True)
    due_date = bounded.DateField(required=False, allow_null=True)
    status = PlanStatusField(required=False)
    version = version_field()
