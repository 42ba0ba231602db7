from rest_framework import serializers

from pmhub.api import fields as bounded
from pmhub.api.serializers import version_field
from pmhub.models import Role

from ..models import ScimGroup, ScimToken


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


class ScimGroupSerializer(serializers.ModelSerializer):
    """A group the identity provider pushed, with the role an admin mapped to it (null: none)."""

    scim_id = serializers.UUIDField(source="uid", read_only=True, help_text="Its id at /scim/v2/Groups/.")
    member_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = ScimGroup
        fields = ["id", "scim_id", "workspace", "display_name", "external_id", "role", "member_count", "version",
                  "created_at", "updated_at"]
        read_only_fields = fields


class ScimGroupWriteSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices, allow_null=True,
                                  help_text="The role of its members (10 viewer, 20 editor, 30 admin); null: none.")
    version = version_field()
