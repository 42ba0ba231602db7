from rest_framework import serializers

from pmhub.api import fields as bounded

from ..models import ScimToken


class ScimTokenSerializer(serializers.ModelSerializer):
    """A SCIM token as the API shows it: its prefix only, never the key or its hash."""

    class Meta:
        model = ScimToken
        fields = ["id", "workspace", "name", "prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
        read_only_fields = fields


class ScimTokenCreatedSerializer(ScimTokenSerializer):
    token = serializers.CharField(read_only=True, help_text="The raw token: shown in this response only.")

    class Meta(ScimTokenSerializer.Meta):
        fields = [*ScimTokenSerializer.Meta.fields, "token"]
        read_only_fields = fields


class ScimTokenWriteSerializer(serializers.Serializer):
    workspace = bounded.IntegerField(help_text="Id of the workspace whose identity provider will use the token.")
    name = serializers.CharField(max_length=100, help_text="The identity provider that will use it.")
