"""API shapes of the backlog. Read serializers shape selector output; write serializers only
validate types and hand clean data to services (rules live in services)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from pmhub.api import fields as bounded
from pmhub.api.serializers import FieldsBuiltOnce, WorkProgressSerializer, version_field

from ..models import (
    AcceptanceCriterion,
    BacklogSettings,
    Comment,
    CustomField,
    Epic,
    SavedView,
    ScoringModel,
    Story,
)


class CriterionSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    class Meta:
        model = AcceptanceCriterion
        fields = ["id", "text", "done", "position"]


class StorySerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    assignee_email = serializers.CharField(source="assignee.email", read_only=True, default=None, allow_null=True)
    epic_title = serializers.CharField(source="epic.title", read_only=True, default=None, allow_null=True)
    # Unset is "" (not null): the schema lists "" beside the categories.
    moscow = serializers.ChoiceField(choices=Story.MoSCoW.choices, allow_blank=True, read_only=True)
    kano = serializers.ChoiceField(choices=Story.Kano.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Story
        fields = ["id", "product", "epic", "epic_title", "title", "as_a", "i_want", "so_that", "description",
                  "status", "points", "assignee", "assignee_email", "labels", "rank", "score", "score_inputs",
                  "moscow", "kano", "demand", "custom_values", "done_at", "version", "created_at", "updated_at"]
        read_only_fields = fields


class ScoreExplanationSerializer(serializers.Serializer):
    framework = serializers.CharField()
    formula = serializers.CharField()
    inputs = serializers.DictField(child=serializers.JSONField(), help_text="The inputs the formula read.")
    score = bounded.DecimalField(max_digits=14, decimal_places=4, allow_null=True)
    category = serializers.CharField(help_text="Value/effort quadrant, MoSCoW or Kano category.")
    missing = serializers.ListField(child=serializers.CharField(), help_text="Inputs still needed for a score.")


class DemandSerializer(serializers.Serializer):
    customers = bounded.IntegerField()
    segments = serializers.ListField(child=serializers.CharField())
    feedback_count = bounded.IntegerField()
    demand = bounded.DecimalField(max_digits=12, decimal_places=2)


class StoryDetailSerializer(StorySerializer):
    criteria = CriterionSerializer(many=True, read_only=True)
    score_explanation = serializers.SerializerMethodField()
    demand_summary = serializers.SerializerMethodField()

    class Meta(StorySerializer.Meta):
        fields = [*StorySerializer.Meta.fields, "criteria", "score_explanation", "demand_summary"]
        read_only_fields = fields

    @extend_schema_field(ScoreExplanationSerializer)
    def get_score_explanation(self, story):
        from .. import selectors, services

        model = self.context.get("scoring_model") or selectors.scoring_model_of(story.product)
        return services.explain(story, model).as_dict()

    @extend_schema_field(DemandSerializer)
    def get_demand_summary(self, story):
        from .. import selectors

        d = selectors.demand_of(story)
        return {**d, "demand": str(d["demand"])}


class StoryWriteSerializer(FieldsBuiltOnce, serializers.Serializer):
    product = bounded.IntegerField(required=False, help_text="Required on create.")
    title = serializers.CharField(max_length=200, required=False)
    as_a = serializers.CharField(max_length=200, required=False, allow_blank=True)
    i_want = serializers.CharField(required=False, allow_blank=True)
    so_that = serializers.CharField(required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    status = serializers.CharField(max_length=30, required=False)
    points = bounded.IntegerField(min_value=0, max_value=1000, required=False, allow_null=True)
    epic_id = bounded.IntegerField(required=False, allow_null=True)
    assignee_id = bounded.IntegerField(required=False, allow_null=True)
    labels = serializers.ListField(child=serializers.CharField(max_length=40), required=False)
    score_inputs = serializers.DictField(child=serializers.JSONField(), required=False,
                                         help_text="Inputs of the product's scoring model, e.g. reach, impact.")
    moscow = serializers.ChoiceField(choices=Story.MoSCoW.choices, required=False, allow_blank=True)
    kano = serializers.ChoiceField(choices=Story.Kano.choices, required=False, allow_blank=True)
    custom_values = serializers.DictField(child=serializers.JSONField(allow_null=True), required=False)
    acceptance_criteria = serializers.ListField(child=serializers.CharField(max_length=500), required=False,
                                                help_text="On create only.")
    version = version_field()


class StoryMoveSerializer(FieldsBuiltOnce, serializers.Serializer):
    before = bounded.IntegerField(required=False, help_text="Place the story directly before this story.")
    after = bounded.IntegerField(required=False, help_text="Place the story directly after this story.")


class StoryBulkSerializer(serializers.Serializer):
    product = bounded.IntegerField()
    ids = serializers.ListField(child=bounded.IntegerField(), min_length=1, max_length=1000)
    status = serializers.CharField(required=False, allow_blank=True)
    epic_id = bounded.IntegerField(required=False, allow_null=True)
    add_labels = serializers.ListField(child=serializers.CharField(max_length=40), required=False)
    remove_labels = serializers.ListField(child=serializers.CharField(max_length=40), required=False)


class BulkResultSerializer(serializers.Serializer):
    updated = bounded.IntegerField()


class CommentSerializer(serializers.ModelSerializer):
    author_email = serializers.CharField(source="author.email", read_only=True, default=None)

    class Meta:
        model = Comment
        fields = ["id", "story", "author", "author_email", "body", "created_at"]
        read_only_fields = fields


class CommentWriteSerializer(serializers.Serializer):
    body = serializers.CharField()


class CriterionWriteSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=500)


class EpicSerializer(serializers.ModelSerializer):
    story_count = serializers.IntegerField(read_only=True, default=0, help_text="All its stories.")
    done_count = serializers.IntegerField(read_only=True, default=0,
                                          help_text="Its stories in a done category (= work.done_count).")
    work = serializers.SerializerMethodField()

    class Meta:
        model = Epic
        fields = ["id", "product", "initiative", "release", "title", "description", "status", "score", "demand",
                  "score_inputs", "custom_values", "story_count", "done_count", "work", "version", "created_at",
                  "updated_at"]
        read_only_fields = fields

    @extend_schema_field(WorkProgressSerializer(allow_null=True))
    def get_work(self, obj):
        work = getattr(obj, "work", None)
        return None if work is None else work.as_dict()


class EpicWriteSerializer(serializers.Serializer):
    product = bounded.IntegerField(required=False, help_text="Required on create.")
    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    status = serializers.CharField(max_length=30, required=False)
    initiative_id = bounded.IntegerField(required=False, allow_null=True)
    release_id = bounded.IntegerField(required=False, allow_null=True)
    score_inputs = serializers.DictField(child=serializers.JSONField(), required=False)
    custom_values = serializers.DictField(child=serializers.JSONField(allow_null=True), required=False)
    version = version_field()


class CustomFieldSerializer(serializers.ModelSerializer):
    class Meta:
        model = CustomField
        fields = ["id", "product", "entity", "key", "label", "type", "options", "required", "position", "version"]
        read_only_fields = ["id", "position", "version"]


class CustomFieldWriteSerializer(serializers.Serializer):
    product = bounded.IntegerField(required=False)
    entity = serializers.ChoiceField(choices=CustomField.Entity.choices, required=False)
    key = serializers.CharField(max_length=40, required=False)
    label = serializers.CharField(max_length=80, required=False)
    type = serializers.ChoiceField(choices=CustomField.Type.choices, required=False)
    options = serializers.ListField(child=serializers.CharField(max_length=80), required=False)
    required = serializers.BooleanField(required=False)
    version = version_field()


class SavedViewSerializer(serializers.ModelSerializer):
    class Meta:
        model = SavedView
        fields = ["id", "product", "owner", "name", "shared", "config", "version", "created_at"]
        read_only_fields = ["id", "owner", "version", "created_at"]


class SavedViewWriteSerializer(serializers.Serializer):
    product = bounded.IntegerField(required=False)
    name = serializers.CharField(max_length=80, required=False)
    shared = serializers.BooleanField(required=False)
    config = serializers.JSONField(required=False, help_text="{columns: [], filters: {}, group: str, sort: str}")
    version = version_field()


class CriterionDefinitionSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField(required=False)
    weight = bounded.FloatField(required=False, default=1)
    against = serializers.BooleanField(required=False, default=False, help_text="Counts against (effort, risk).")
    source = serializers.ChoiceField(choices=["input", "custom_field", "demand"], required=False, default="input")
    field = serializers.CharField(required=False, help_text="Custom field key when source is custom_field.")


class ScoringModelSerializer(serializers.ModelSerializer):
    # A product that never saved a model answers the default one, not stored yet: no id, no date.
    id = serializers.IntegerField(read_only=True, allow_null=True)
    updated_at = serializers.DateTimeField(read_only=True, allow_null=True)
    criteria = CriterionDefinitionSerializer(many=True, read_only=True)
    inputs = serializers.SerializerMethodField()

    class Meta:
        model = ScoringModel
        fields = ["id", "product", "framework", "criteria", "inputs", "version", "updated_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_inputs(self, obj):
        from ..scoring import input_keys

        return input_keys(obj.framework, obj.criteria)


class ScoringModelWriteSerializer(serializers.Serializer):
    framework = serializers.ChoiceField(choices=ScoringModel.Framework.choices)
    criteria = CriterionDefinitionSerializer(many=True, required=False)


class WhatIfRowSerializer(serializers.Serializer):
    id = bounded.IntegerField()
    title = serializers.CharField()
    old_score = bounded.DecimalField(max_digits=14, decimal_places=4, allow_null=True)
    new_score = bounded.DecimalField(max_digits=14, decimal_places=4, allow_null=True)
    old_position = bounded.IntegerField()
    new_position = bounded.IntegerField()
    delta = bounded.IntegerField()


class WhatIfSerializer(serializers.Serializer):
    framework = serializers.CharField()
    rows = WhatIfRowSerializer(many=True)
    unscored = bounded.IntegerField()


class JobRefSerializer(serializers.Serializer):
    model = ScoringModelSerializer()
    job_id = bounded.IntegerField()


class BacklogSettingsSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(read_only=True, allow_null=True)  # null until first saved (defaults)

    class Meta:
        model = BacklogSettings
        fields = ["id", "product", "workflow", "segment_weights"]
        read_only_fields = fields


class BacklogSettingsWriteSerializer(serializers.Serializer):
    workflow = serializers.ListField(child=serializers.DictField(), required=False,
                                     help_text='[{"key", "label", "category": todo|active|done|excluded}]')
    segment_weights = serializers.DictField(child=bounded.FloatField(), required=False)

