from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from pmhub.api import fields as bounded
from pmhub.api.serializers import version_field
from pmhub.webhooks import webhook_event_names

from ..models import (
    SECTION_KEYS,
    ReportDelivery,
    ReportRecipient,
    ReportRun,
    ReportSubscription,
    WebhookDelivery,
    WebhookEndpoint,
)


class RecipientSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReportRecipient
        fields = ["id", "email", "user", "unsubscribed_at"]


class SubscriptionSerializer(serializers.ModelSerializer):
    recipients = RecipientSerializer(many=True, read_only=True)

    class Meta:
        model = ReportSubscription
        fields = ["id", "workspace", "product", "name", "owner", "cadence", "weekday", "day_of_month", "hour",
                  "sections", "active", "recipients", "version", "created_at", "updated_at"]
        read_only_fields = fields


class SubscriptionWriteSerializer(serializers.Serializer):
    workspace = bounded.IntegerField(help_text="Id of the workspace (create only).")
    product = bounded.IntegerField(required=False, allow_null=True, help_text="Empty: whole workspace.")
    name = serializers.CharField(max_length=120)
    cadence = serializers.ChoiceField(choices=ReportSubscription.Cadence.choices, default="weekly")
    weekday = bounded.IntegerField(min_value=0, max_value=6, default=0)
    day_of_month = bounded.IntegerField(min_value=1, max_value=28, default=1)
    hour = bounded.IntegerField(min_value=0, max_value=23, default=8)
    sections = serializers.ListField(child=serializers.ChoiceField(choices=SECTION_KEYS), default=list(SECTION_KEYS))
    active = serializers.BooleanField(required=False)
    member_ids = serializers.ListField(child=bounded.IntegerField(), required=False, default=list)
    emails = serializers.ListField(child=serializers.EmailField(), required=False, default=list)
    version = version_field()


class PreviewRequestSerializer(serializers.Serializer):
    workspace = bounded.IntegerField()
    product = bounded.IntegerField(required=False, allow_null=True)
    sections = serializers.ListField(child=serializers.ChoiceField(choices=SECTION_KEYS), required=False)


class DeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = ReportDelivery
        fields = ["id", "email", "status", "attempts", "sent_at", "error"]


class RunSerializer(serializers.ModelSerializer):
    deliveries = DeliverySerializer(many=True, read_only=True)

    class Meta:
        model = ReportRun
        fields = ["id", "period", "status", "error", "created_at", "finished_at", "deliveries"]


class WebhookEndpointSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookEndpoint
        fields = ["id", "workspace", "url", "description", "events", "active", "consecutive_failures", "disabled_at",
                  "version", "created_at"]
        read_only_fields = fields


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    """The create response: the only time the signing secret is shown."""

    class Meta(WebhookEndpointSerializer.Meta):
        fields = WebhookEndpointSerializer.Meta.fields + ["secret"]
        read_only_fields = fields


class WebhookEndpointWriteSerializer(serializers.Serializer):
    workspace = bounded.IntegerField(help_text="Id of the workspace (create only).")
    url = serializers.URLField(max_length=500)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    events = serializers.ListField(child=serializers.ChoiceField(choices=[]))
    active = serializers.BooleanField(required=False)
    version = version_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The registry is filled by the apps' ready(); read it per serializer, not at import.
        self.fields["events"].child.choices = webhook_event_names()


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = ["id", "uuid", "event", "status", "attempts", "response_status", "response_ms", "error",
                  "created_at", "last_attempt_at"]


class NotificationPreferenceSerializer(serializers.Serializer):
    kind = serializers.CharField(read_only=True)
    label = serializers.CharField(read_only=True)
    email = serializers.BooleanField()


# --- the report (preview): one typed schema per section ---------------------------------------------
def _obj(properties: dict, required=None) -> dict:
    """A JSON-schema object whose listed properties are all present (reports/sections.py builds them)."""
    return {"type": "object", "properties": properties, "required": list(required or properties)}


def _list(item: dict) -> dict:
    return {"type": "array", "items": item}


_STR, _INT, _BOOL = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
_NUM_OR_NULL = {"type": "number", "nullable": True}
_INT_OR_NULL = {"type": "integer", "nullable": True}
_DATE_OR_NULL = {"type": "string", "format": "date", "nullable": True}
_COUNTS = {"type": "object", "additionalProperties": _INT}
_STATES = {"type": "object", "additionalProperties": _STR,
           "description": "State per id, for the next report's changes."}
_CHANGE = _obj({"title": _STR, "from": _STR, "to": _STR})
# Work progress (backlog/progress.py, Progress.as_dict): the figure every roadmap surface shows.
_WORK = _obj({"done_points": _INT, "total_points": _INT, "done_count": _INT, "total_count": _INT,
              "ratio": _NUM_OR_NULL, "percent": _INT_OR_NULL})
_INITIATIVE = _obj({"id": _INT, "title": _STR, "product": _STR, "status": _STR, "status_label": _STR,
                    "state": {"type": "string", "enum": ["done", "on_track", "at_risk", "late"], "nullable": True},
                    "end_date": _DATE_OR_NULL, "owner": _STR, "work": _WORK})
_RELEASE = _obj({"name": _STR, "product": _STR, "status": _STR, "status_label": _STR, "release_date": _DATE_OR_NULL,
                 "overdue": _BOOL, "work": _WORK})
SECTION_DATA = {
    "roadmap": _obj({"available": _BOOL, "counts": _COUNTS, "total": _INT, "late": _list(_INITIATIVE),
                     "items": _list(_INITIATIVE), "changes": _list(_CHANGE), "states": _STATES}),
    "objectives": _obj({"available": _BOOL, "items": _list(_obj({
        "title": _STR, "progress": _INT_OR_NULL, "work": _WORK,
        "key_results": _list(_obj({"title": _STR, "current": _NUM_OR_NULL, "target": _NUM_OR_NULL,
                                   "progress": _NUM_OR_NULL}))}))}),
    "kpis": _obj({"available": _BOOL, "items": _list(_obj({
        "id": _INT, "name": _STR, "product": _STR, "unit": _STR, "current": _NUM_OR_NULL, "target": _NUM_OR_NULL,
        "current_at": _DATE_OR_NULL, "state": _STR, "state_label": _STR})),
        "counts": _COUNTS, "changed": _list(_obj({"name": _STR, "from": _STR, "to": _STR})), "states": _STATES}),
    "releases": _obj({"available": _BOOL, "upcoming": _list(_RELEASE), "released": _list(_RELEASE)}),
    "backlog": _obj({"available": _BOOL, "ordered_by": _STR, "items": _list(_obj({
        "id": _INT, "title": _STR, "product": _STR, "status": _STR, "points": _INT_OR_NULL,
        "score": _NUM_OR_NULL}))}),
    "action_plans": _obj({"available": _BOOL, "items": _list(_obj({
        "title": _STR, "kpi": _STR, "status": _STR, "due_date": _DATE_OR_NULL}))}),
    "risks": _obj({"available": _BOOL, "open": _INT, "above": _INT, "items": _list(_obj({
        "id": _INT, "title": _STR, "product": _STR, "kind": _STR, "score": _INT, "appetite": _INT, "owner": _STR,
        "status": _STR, "trend": _STR, "review_date": _DATE_OR_NULL}))}),
    "launches": _obj({"available": _BOOL, "items": _list(_obj({
        "name": _STR, "product": _STR, "release_date": _DATE_OR_NULL, "has_checklist": _BOOL,
        "percent": _INT_OR_NULL, "required_open": _INT, "ready": _BOOL}))}),
}
assert set(SECTION_DATA) == set(SECTION_KEYS), "every report section needs its schema"
# One branch per section: the key names which data follows (anyOf: the keys keep them apart).
SECTION_SCHEMA = {"anyOf": [_obj({"key": {"type": "string", "enum": [key]}, "label": _STR, "data": data})
                            for key, data in SECTION_DATA.items()]}


@extend_schema_field(_list(SECTION_SCHEMA))
class SectionsField(serializers.ListField):
    pass


class ReportWorkspaceSerializer(serializers.Serializer):
    id = bounded.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()


class ReportSerializer(serializers.Serializer):
    """A report as reports.services.report_build makes it (the preview, and what a run mails)."""

    title = serializers.CharField()
    scope = serializers.CharField(help_text="The product's name, or \"All products\".")
    period = serializers.CharField()
    period_label = serializers.CharField()
    workspace = ReportWorkspaceSerializer()
    product_id = bounded.IntegerField(allow_null=True)
    generated_at = bounded.DateTimeField()
    today = bounded.DateField()
    app_url = serializers.URLField()
    sections = SectionsField(child=serializers.DictField())
