from rest_framework import serializers

from pmhub.api import fields as bounded
from pmhub.api.serializers import version_field
from pmhub.webhooks import webhook_event_names
from reports.models import WebhookDelivery

from ..models import Channel, GitHubDelivery, PullRequestLink, Repository


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


class RepositorySerializer(serializers.ModelSerializer):
    """A connected GitHub repository: never its secret or token (only whether a token is set)."""

    has_token = serializers.SerializerMethodField()

    class Meta:
        model = Repository
        fields = ["id", "workspace", "product", "full_name", "merge_status", "has_token", "last_delivery_at",
                  "version", "created_at"]
        read_only_fields = fields

    def get_has_token(self, obj) -> bool:
        return bool(obj.token_sealed)


class RepositoryCreatedSerializer(RepositorySerializer):
    """The connect response: the only time the webhook secret is shown, with the payload URL."""

    secret = serializers.CharField(read_only=True)
    payload_url = serializers.CharField(read_only=True)

    class Meta(RepositorySerializer.Meta):
        fields = RepositorySerializer.Meta.fields + ["secret", "payload_url"]
        read_only_fields = fields


class RepositoryWriteSerializer(serializers.Serializer):
    product = bounded.IntegerField(help_text="Id of the product (connect only).")
    full_name = serializers.CharField(max_length=140, help_text="owner/name (connect only).")
    merge_status = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    token = serializers.CharField(max_length=400, required=False, allow_blank=True, write_only=True)
    version = version_field()


class GitHubDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = GitHubDelivery
        fields = ["id", "delivery_id", "event", "outcome", "received_at"]
        read_only_fields = fields


class PullRequestLinkSerializer(serializers.ModelSerializer):
    repository_name = serializers.CharField(source="repository.full_name", read_only=True)

    class Meta:
        model = PullRequestLink
        fields = ["id", "repository", "repository_name", "story", "number", "title", "url", "branch", "state",
                  "draft", "checks", "updated_at"]
        read_only_fields = fields
