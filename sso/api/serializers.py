from rest_framework import serializers

from pmhub.api import fields as bounded
from pmhub.api.serializers import version_field
from pmhub.models import Role

from ..models import MAX_GROUP_NAME, MAX_GROUP_ROLES, IdentityProvider, SsoDomain


class GroupRoleSerializer(serializers.Serializer):
    group = serializers.CharField(max_length=MAX_GROUP_NAME, help_text="The group name as the provider sends it.")
    role = serializers.ChoiceField(choices=Role.choices, help_text="10 viewer, 20 editor, 30 admin.")


class IdentityProviderSerializer(serializers.ModelSerializer):
    """A provider as the API shows it: never its client secret (only whether one is set)."""

    has_client_secret = serializers.SerializerMethodField()
    callback_url = serializers.SerializerMethodField(help_text="The URL to register at the provider: the OIDC "
                                                               "redirect URI, or the SAML ACS URL.")
    sp_entity_id = serializers.SerializerMethodField()
    group_roles = GroupRoleSerializer(many=True, read_only=True)
    # Empty for the other protocol: plain strings in the schema ("" is not a "uri").
    issuer = serializers.CharField(read_only=True, help_text="OIDC issuer URL; empty for SAML.")
    metadata_url = serializers.CharField(read_only=True, help_text="SAML metadata URL; may be empty.")

    class Meta:
        model = IdentityProvider
        fields = ["id", "workspace", "name", "protocol", "enabled", "issuer", "client_id", "has_client_secret",
                  "scopes", "groups_claim", "metadata_url", "metadata_xml", "entity_id", "default_role",
                  "group_roles", "jit_enabled", "callback_url", "version", "created_at", "updated_at",
                  "email_attribute", "name_attribute", "metadata_fetched_at", "metadata_error", "sp_entity_id"]
        read_only_fields = fields

    def get_has_client_secret(self, obj) -> bool:
        return bool(obj.client_secret_sealed)

    def get_callback_url(self, obj) -> str:
        return obj.callback_url()

    def get_sp_entity_id(self, obj) -> str:
        """SAML: PMHub's entity id (audience) for this provider, also its SP metadata URL; "" for OIDC."""
        from ..saml_services import saml_entity_id

        return saml_entity_id(obj) if obj.protocol == IdentityProvider.Protocol.SAML else ""


class IdentityProviderWriteSerializer(serializers.Serializer):
    workspace = bounded.IntegerField(help_text="Id of the workspace (create only).")
    name = serializers.CharField(max_length=120)
    protocol = serializers.ChoiceField(choices=IdentityProvider.Protocol.choices, required=False)
    enabled = serializers.BooleanField(required=False)
    issuer = serializers.URLField(max_length=500, required=False, allow_blank=True)
    client_id = serializers.CharField(max_length=255, required=False, allow_blank=True)
    client_secret = serializers.CharField(max_length=1000, required=False, allow_blank=True, write_only=True,
                                          help_text="Stored encrypted, never returned. On update, leave out "
                                                    "(or empty) to keep the current one.")
    scopes = serializers.CharField(max_length=255, required=False, allow_blank=True)
    groups_claim = serializers.CharField(max_length=100, required=False, allow_blank=True)
    metadata_url = serializers.URLField(max_length=500, required=False, allow_blank=True)
    metadata_xml = serializers.CharField(max_length=200_000, required=False, allow_blank=True)
    entity_id = serializers.CharField(max_length=500, required=False, allow_blank=True)
    email_attribute = serializers.CharField(max_length=200, required=False, allow_blank=True,
                                            help_text="SAML: the attribute with the e-mail (empty: the usual names).")
    name_attribute = serializers.CharField(max_length=200, required=False, allow_blank=True,
                                           help_text="SAML: the attribute with the name (empty: the usual names).")
    default_role = serializers.ChoiceField(choices=Role.choices, required=False)
    group_roles = GroupRoleSerializer(many=True, required=False, max_length=MAX_GROUP_ROLES)
    jit_enabled = serializers.BooleanField(required=False)
    version = version_field()


class SsoDomainSerializer(serializers.ModelSerializer):
    verified = serializers.BooleanField(read_only=True)
    txt_record = serializers.CharField(read_only=True, help_text="Publish this TXT record at the domain, then "
                                                                 "call verify.")

    class Meta:
        model = SsoDomain
        fields = ["id", "workspace", "domain", "verified", "verified_at", "txt_record", "require_sso", "version",
                  "created_at"]
        read_only_fields = fields


class SsoDomainWriteSerializer(serializers.Serializer):
    workspace = bounded.IntegerField(help_text="Id of the workspace (create only).")
    domain = serializers.CharField(max_length=253, help_text="Create only, e.g. acme.com.")
    require_sso = serializers.BooleanField(required=False, default=False)
    version = version_field()
