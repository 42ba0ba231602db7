from rest_framework import serializers

from pmhub.api import fields as bounded
from pmhub.api.serializers import WorkProgressSerializer, version_field

from ..models import ChangeRequest, ImportJob, Iteration


class IterationSerializer(serializers.ModelSerializer):
    committed_points = bounded.IntegerField(read_only=True)
    story_count = bounded.IntegerField(read_only=True)
    over_capacity = serializers.SerializerMethodField()

    class Meta:
        model = Iteration
        fields = ["id", "product", "name", "goal", "start_date", "end_date", "capacity_points", "committed_points",
                  "story_count", "over_capacity", "version", "created_at", "updated_at"]
        read_only_fields = ["version"]

    def get_over_capacity(self, obj) -> bool:
        return (getattr(obj, "committed_points", 0) or 0) > obj.capacity_points


class IterationWriteSerializer(serializers.Serializer):
    product = bounded.IntegerField(help_text="Product id (create only).", required=False)
    name = serializers.CharField(max_length=120)
    goal = serializers.CharField(max_length=300, required=False, allow_blank=True)
    start_date = bounded.DateField()
    end_date = bounded.DateField()
    capacity_points = bounded.IntegerField(min_value=0, default=0)
    version = version_field()


class StoryRefSerializer(serializers.Serializer):
    story = bounded.IntegerField()


class CapacitySerializer(serializers.Serializer):
    committed = bounded.IntegerField()
    capacity = bounded.IntegerField()
    percent = bounded.IntegerField()
    over = serializers.BooleanField()
    over_by = bounded.IntegerField()
    free = bounded.IntegerField()


class IterationStorySerializer(serializers.Serializer):
    id = bounded.IntegerField()
    title = serializers.CharField()
    status = serializers.CharField()
    points = bounded.IntegerField(allow_null=True)


class BurnDaySerializer(serializers.Serializer):
    day = bounded.DateField()
    scope = bounded.IntegerField(allow_null=True)
    completed = bounded.IntegerField(allow_null=True)
    remaining = bounded.IntegerField(allow_null=True)
    ideal = bounded.FloatField()


class BurnSerializer(serializers.Serializer):
    iteration = bounded.IntegerField()
    capacity = CapacitySerializer()
    days = BurnDaySerializer(many=True)


class VelocityIterationSerializer(serializers.Serializer):
    iteration_id = bounded.IntegerField()
    name = serializers.CharField()
    start_date = bounded.DateField()
    end_date = bounded.DateField()
    committed = bounded.IntegerField()
    completed = bounded.IntegerField()
    length_days = bounded.IntegerField()


class VelocitySerializer(serializers.Serializer):
    product = bounded.IntegerField()
    average = bounded.FloatField(allow_null=True)
    iteration_days = bounded.IntegerField(allow_null=True)
    iterations = VelocityIterationSerializer(many=True)


class ReleaseScopeListSerializer(serializers.Serializer):
    id = bounded.IntegerField()
    product = bounded.IntegerField(source="product_id")
    name = serializers.CharField()
    release_date = bounded.DateField(allow_null=True)
    scope_points = bounded.IntegerField(help_text="Points of the scope (its progress's total_points).")
    scope_count = bounded.IntegerField(help_text="Stories of the scope, won't-do ones left out.")
    pending_change_requests = bounded.IntegerField()


class ApprovalSerializer(serializers.Serializer):
    story_ids = serializers.ListField(child=bounded.IntegerField())
    total_points = bounded.IntegerField()
    approved_by = bounded.IntegerField(source="approved_by_id", allow_null=True)
    approved_at = bounded.DateTimeField()
    note = serializers.CharField()


class ReleaseScopeSerializer(serializers.Serializer):
    release = bounded.IntegerField()
    stories = IterationStorySerializer(many=True)
    current_points = bounded.IntegerField()
    approval = ApprovalSerializer(allow_null=True)
    approved_points = bounded.IntegerField(allow_null=True)
    points_delta = bounded.IntegerField(allow_null=True)
    added = serializers.ListField(child=bounded.IntegerField())
    removed = serializers.ListField(child=bounded.IntegerField())
    work = WorkProgressSerializer(help_text="Progress of the scope (backlog/progress.py); `current_points` is its "
                                            "total_points.")


class ScopeChangeSerializer(serializers.Serializer):
    story = bounded.IntegerField()
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
    release = bounded.IntegerField()
    story = bounded.IntegerField()
    kind = KindField()
    reason = serializers.CharField()


class DecisionSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)


class ImportJobSerializer(serializers.ModelSerializer):
    row_count = serializers.SerializerMethodField()
    status_url = serializers.SerializerMethodField()
    job_status = serializers.CharField(source="job.status", default=None, read_only=True)
    job_progress = bounded.IntegerField(source="job.progress", default=None, read_only=True)
    job_total = bounded.IntegerField(source="job.total", default=None, read_only=True)

    class Meta:
        model = ImportJob
        fields = ["id", "product", "filename", "encoding", "headers", "mapping", "status", "error", "status_url",
                  "preview", "row_count",
                  "job", "job_status", "job_progress", "job_total", "created_count", "created_at", "finished_at"]
        read_only_fields = fields

    def get_status_url(self, obj) -> str:
        """Poll this until `status` leaves `parsing` (the worker reads the file)."""
        from django.urls import reverse

        path = reverse("import-detail", kwargs={"pk": obj.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    def get_row_count(self, obj) -> int | None:
        """Known once previewed (the staged rows themselves are not loaded for lists)."""
        return obj.preview.get("total_rows") if obj.preview else None


class ImportUploadSerializer(serializers.Serializer):
    product = bounded.IntegerField()
    file = serializers.FileField()


class ImportPreviewSerializer(serializers.Serializer):
    mapping = serializers.DictField(child=serializers.ListField(child=bounded.IntegerField()), required=False,
                                    help_text="{field: [column index, ...]}; defaults to the detected mapping.")
    status_map = serializers.DictField(child=serializers.CharField(), required=False, default=dict)
