"""Shapes of the adoption API. Event items are validated in adoption.ingestion (one fast pass);
the event serializers here document the payload for the OpenAPI schema."""

from rest_framework import serializers

from pmhub.api import fields as bounded
from pmhub.api.serializers import version_field

from ..models import Feature, FeatureDaily, IngestionKey, OutcomeReview


class EventSerializer(serializers.Serializer):
    id = serializers.CharField(max_length=100, help_text="Idempotency key, unique per product: a re-sent id is "
                                                         "ignored.")
    feature = serializers.CharField(max_length=100, help_text="Feature key, e.g. `dashboards.share`.")
    actor = serializers.CharField(max_length=100, help_text="User or account id in your product.")
    occurred_at = bounded.DateTimeField(help_text="ISO 8601 with offset.")
    properties = serializers.DictField(required=False)


class EventBatchSerializer(serializers.Serializer):
    product = bounded.IntegerField(required=False, help_text="Optional; must be the key's product.")
    events = EventSerializer(many=True, help_text="At most API_MAX_BATCH_SIZE (1,000) events.")


class EventBatchResultSerializer(serializers.Serializer):
    accepted = bounded.IntegerField(help_text="Valid events in the batch (re-sent ids included, stored once).")
    days = serializers.ListField(child=bounded.DateField(), help_text="Local days the batch touched.")
    rollups_queued = serializers.ListField(child=bounded.DateField())


class FeatureSerializer(serializers.ModelSerializer):
    product = bounded.IntegerField(source="product_id", read_only=True)
    kpi = bounded.IntegerField(source="kpi_id", read_only=True, allow_null=True)
    target = bounded.DecimalField(max_digits=18, decimal_places=4, read_only=True, allow_null=True)

    class Meta:
        model = Feature
        fields = ["id", "product", "key", "name", "description", "target_percent", "target", "kpi", "version",
                  "created_at", "updated_at"]
        read_only_fields = ["version"]


class FeatureWriteSerializer(serializers.Serializer):
    product = bounded.IntegerField()
    key = serializers.CharField(max_length=100)
    name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    target_percent = bounded.DecimalField(max_digits=5, decimal_places=2, required=False, allow_null=True,
                                              min_value=0, max_value=100)
    kpi = bounded.IntegerField(required=False, allow_null=True)
    version = version_field()


class FeatureUpdateSerializer(FeatureWriteSerializer):
    product = bounded.IntegerField(required=False)
    key = serializers.CharField(max_length=100, required=False)


class RollupSerializer(serializers.ModelSerializer):
    product = bounded.IntegerField(source="product_id", read_only=True)
    feature = bounded.IntegerField(source="feature_id", read_only=True)
    feature_key = serializers.CharField(source="feature.key", read_only=True)

    class Meta:
        model = FeatureDaily
        fields = ["id", "product", "feature", "feature_key", "day", "users", "events", "users_7d"]


class AdoptionSerializer(serializers.Serializer):
    feature = bounded.IntegerField()
    window_days = bounded.IntegerField()
    end = bounded.DateField()
    users = bounded.IntegerField()
    active = bounded.IntegerField()
    percent = bounded.FloatField(allow_null=True)
    previous_percent = bounded.FloatField(allow_null=True)
    trend = bounded.FloatField(allow_null=True, help_text="Percentage points vs the previous window.")
    target = bounded.DecimalField(max_digits=18, decimal_places=4, allow_null=True)


class RetentionPointSerializer(serializers.Serializer):
    week = bounded.IntegerField()
    users = bounded.IntegerField()
    share = bounded.FloatField(allow_null=True)


class CombinedPointSerializer(RetentionPointSerializer):
    cohort = bounded.IntegerField()


class CohortSerializer(serializers.Serializer):
    start = bounded.DateField()
    size = bounded.IntegerField()
    curve = RetentionPointSerializer(many=True)


class RetentionSerializer(serializers.Serializer):
    end = bounded.DateField()
    cohorts = CohortSerializer(many=True)
    combined = CombinedPointSerializer(many=True)


class CheckpointSerializer(serializers.Serializer):
    window_days = bounded.IntegerField()
    due_at = bounded.DateTimeField()
    value = bounded.DecimalField(max_digits=18, decimal_places=4, allow_null=True)
    measured_at = bounded.DateTimeField(allow_null=True)


class OutcomeReviewSerializer(serializers.ModelSerializer):
    product = bounded.IntegerField(source="product_id", read_only=True)
    release = bounded.IntegerField(source="release_id", read_only=True, allow_null=True)
    epic = bounded.IntegerField(source="epic_id", read_only=True, allow_null=True)
    initiative = bounded.IntegerField(source="initiative_id", read_only=True, allow_null=True)
    kpi = bounded.IntegerField(source="kpi_id", read_only=True)
    kpi_name = serializers.CharField(source="kpi.name", read_only=True)
    subject = serializers.CharField(read_only=True)
    checkpoints = CheckpointSerializer(many=True, read_only=True)
    change_30 = serializers.SerializerMethodField()
    change_90 = serializers.SerializerMethodField()

    class Meta:
        model = OutcomeReview
        fields = ["id", "product", "release", "epic", "initiative", "subject", "kpi", "kpi_name", "released_at",
                  "baseline_value", "baseline_at", "predicted", "predicted_score", "checkpoints", "change_30",
                  "change_90"]

    def _change(self, obj, days) -> float | None:
        from ..analytics import relative_change

        c = next((c for c in obj.checkpoints.all() if c.window_days == days and c.measured_at), None)
        return relative_change(obj.baseline_value, c.value if c else None, lower_is_better=obj.kpi.direction == "lower")

    def get_change_30(self, obj) -> float | None:
        return self._change(obj, 30)

    def get_change_90(self, obj) -> float | None:
        return self._change(obj, 90)


class CalibrationWindowSerializer(serializers.Serializer):
    rho = bounded.FloatField(allow_null=True)
    n = bounded.IntegerField()


class CalibrationSerializer(serializers.Serializer):
    product = bounded.IntegerField()
    window_30 = CalibrationWindowSerializer()
    window_90 = CalibrationWindowSerializer()


class IngestionKeySerializer(serializers.ModelSerializer):
    product = bounded.IntegerField(source="product_id", read_only=True)

    class Meta:
        model = IngestionKey
        fields = ["id", "product", "name", "prefix", "created_at", "last_used_at", "revoked_at"]


class IngestionKeyCreatedSerializer(IngestionKeySerializer):
    key = serializers.CharField(read_only=True, help_text="Shown once; only its hash is stored.")

    class Meta(IngestionKeySerializer.Meta):
        fields = [*IngestionKeySerializer.Meta.fields, "key"]


class IngestionKeyWriteSerializer(serializers.Serializer):
    product = bounded.IntegerField()
    name = serializers.CharField(max_length=100)
