from rest_framework import serializers

from pmhub.api import fields as bounded
from pmhub.api.serializers import version_field
from pmhub.webhooks import webhook_event_names
from reports.models import WebhookDelivery

from ..models import Channel


class ChannelSerializer(serializers.ModelSerializer):
    """A channel as the API shows it: the URL only masked (`url_hint`), never in clear or sealed."""

    events = serializers.ListField(source="endpoint.events", child=serializers.CharField(), read_only=True)
    active = serializers.BooleanField(source="endpoint.active", read_only=True)
    consecutive_failures = serializers.IntegerField(source="endpoint.consecutive_failures", read_only=True)
    disabled_at = serializers.DateTimeField(source="endpoint.disabled_at", read_only=True, allow_null=True)

    class Meta:
        model = Channel
        fields = ["id", "workspace", "product", "kind", "name", "url_hint", "events", "active",
                  "consecutive_failures", "disabled_at", "version", "created_at"]
        read_only_fields = fields


class ChannelWriteSerializer(serializers.Serializer):
    workspace = bounded.IntegerField(help_text="Id of the workspace (create only).")
    kind = serializers.ChoiceField(choices=Channel.Kind.choices, help_text="Create only.")
    name = serializers.CharField(max_length=120)
    url = serializers.CharField(max_length=1000, write_only=True,
                                help_text="The incoming-webhook URL; stored encrypted, never returned. "
                                          "On update, leave out to keep the current one.")
    product = bounded.IntegerField(required=False, allow_null=True, help_text="Empty: every product.")
    events = serializers.ListField(child=serializers.ChoiceField(choices=[]), max_length=100)
    active = serializers.BooleanField(required=False)
    version = version_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["events"].child.choices = webhook_event_names()


class ChannelDeliverySerializer(serializers.ModelSerializer):
    """A line of the shared delivery log (the same shape as a webhook's)."""

    class Meta:
        model = WebhookDelivery
        fields = ["id", "uuid", "event", "status", "attempts", "response_status", "response_ms", "error",
                  "created_at", "last_attempt_at"]
        read_only_fields = fields
