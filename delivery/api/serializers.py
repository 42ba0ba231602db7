from rest_framework import serializers

from backlog.api.serializers import WorkProgressSerializer

from ..models import ChangeRequest, ImportJob, Iteration


class IterationSerializer(serializers.ModelSerializer):
    committed_points = serializers.IntegerField(read_only=True)
    story_count = serializers.IntegerField(read_only=True)
    over_capacity = serializers.SerializerMethodField()

    class Meta:
        model = Iteration
        fields = ["id", "product", "name", "goal", "start_date", "end_date", "capacity_points", "committed_points",
                  "story_count", "over_capacity", "created_at", "updated_at"]

    def get_over_capacity(self, obj) -> bool:
        return (getattr(obj, "committed_points", 0) or 0) > obj.capacity_points


class IterationWriteSerializer(serializers.Serializer):
    product = serializers.IntegerField(help_text="Product id (create only).", required=False)
    name = serializers.CharField(max_length=120)
    goal = serializers.CharField(max_length=300, required=False, allow_blank=True)
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    capacity_points = serializers.IntegerField(min_value=0, default=0)


class StoryRefSerializer(serializers.Serializer):
    story = serializers.IntegerField()


class CapacitySerializer(serializers.Serializer):
    committed = serializers.IntegerField()
    capacity = serializers.IntegerField()
    percent = serializers.IntegerField()
    over = serializers.BooleanField()
    over_by = serializers.IntegerField()
    free = serializers.IntegerField()


class IterationStorySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    status = serializers.CharField()
    points = serializers.IntegerField(allow_null=True)


class BurnDaySerializer(serializers.Serializer):
    day = serializers.DateField()
    scope = serializers.IntegerField(allow_null=True)
    completed = serializers.IntegerField(allow_null=True)
    remaining = serializers.IntegerField(allow_null=True)
    ideal = serializers.FloatField()


class BurnSerializer(serializers.Serializer):
    iteration = serializers.IntegerField()
    capacity = CapacitySerializer()
    days = BurnDaySerializer(many=True)


class VelocityIterationSerializer(serializers.Serializer):
    iteration_id = serializers.IntegerField()
    name = serializers.CharField()
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    committed = serializers.IntegerField()
    completed = serializers.IntegerField()
    length_days = serializers.IntegerField()


class VelocitySerializer(serializers.Serializer):
    product = serializers.IntegerField()
    average = serializers.FloatField(allow_null=True)
    iteration_days = serializers.IntegerField(allow_null=True)
    iterations = VelocityIterationSerializer(many=True)


class ReleaseScopeListSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    product = serializers.IntegerField(source="product_id")
    name = serializers.CharField()
    release_date = serializers.DateField(allow_null=True)
    scope_points = serializers.IntegerField(help_text="Points of the scope (its progress's total_points).")
    scope_count = serializers.IntegerField(help_text="Stories of the scope, won't-do ones left out.")
    pending_change_requests = serializers.IntegerField()


class ApprovalSerializer(serializers.Serializer):
    story_ids = serializers.ListField(child=serializers.IntegerField())
    total_points = serializers.IntegerField()
    approved_by = serializers.IntegerField(source="approved_by_id", allow_null=True)
    approved_at = serializers.DateTimeField()
    note = serializers.CharField()


class ReleaseScopeSerializer(serializers.Serializer):
    release = serializers.IntegerField()
    stories = IterationStorySerializer(many=True)
    current_points = serializers.IntegerField()
    approval = ApprovalSerializer(allow_null=True)
    approved_points = serializers.IntegerField(allow_null=True)
    points_delta = serializers.IntegerField(allow_null=True)
    added = serializers.ListField(child=serializers.IntegerField())
    removed = serializers.ListField(child=serializers.IntegerField())
    work = WorkProgressSerializer(help_text="Progress of the scope (backlog/progress.py); `current_points` is its "
                                            "total_points.")


class ScopeChangeSerializer(serializers.Serializer):
    story = serializers.IntegerField()
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class ScopeApproveSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)


class KindField(serializers.CharField):
    """`add` or `remove`, checked by the service. A plain string in the schema: a choice
    field named `kind` collides with the notifications' `kind` enum in drf-spectacular."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "add or remove")
        super().__init__(max_length=6, **kwargs)


class ChangeRequestSerializer(serializers.ModelSerializer):
    kind = KindField(read_only=True)

    class Meta:
        model = ChangeRequest
        fields = ["id", "release", "story", "kind", "reason", "status", "points_delta", "velocity", "iteration_days",
                  "date_impact_days", "proposed_by", "created_at", "decided_by", "decided_at", "decision_note"]
        read_only_fields = fields


class ChangeRequestWriteSerializer(serializers.Serializer):
    release = serializers.IntegerField()
    story = serializers.IntegerField()
    kind = KindField()
    reason = serializers.CharField()


class DecisionSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)


class ImportJobSerializer(serializers.ModelSerializer):
    row_count = serializers.SerializerMethodField()
    job_status = serializers.CharField(source="job.status", default=None, read_only=True)
    job_progress = serializers.IntegerField(source="job.progress", default=None, read_only=True)
    job_total = serializers.IntegerField(source="job.total", default=None, read_only=True)

    class Meta:
        model = ImportJob
        fields = ["id", "product", "filename", "encoding", "headers", "mapping", "status", "preview", "row_count",
                  "job", "job_status", "job_progress", "job_total", "created_count", "created_at", "finished_at"]
        read_only_fields = fields

    def get_row_count(self, obj) -> int | None:
        """Known once previewed (the staged rows themselves are not loaded for lists)."""
        return obj.preview.get("total_rows") if obj.preview else None


class ImportUploadSerializer(serializers.Serializer):
    product = serializers.IntegerField()
    file = serializers.FileField()


class ImportPreviewSerializer(serializers.Serializer):
    mapping = serializers.DictField(child=serializers.ListField(child=serializers.IntegerField()), required=False,
                                    help_text="{field: [column index, ...]}; defaults to the detected mapping.")
    status_map = serializers.DictField(child=serializers.CharField(), required=False, default=dict)
