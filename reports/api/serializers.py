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
