"""Single sign-on: identity providers per workspace (OIDC today, SAML 2.0 beside it), the e-mail
domains a workspace has proved it owns, and the link between a person and their identity at a
provider. See docs/sso.md and docs/decisions/1800-1809.

Protocol-specific fields sit on one IdentityProvider model (a protocol column, then the OIDC and
the SAML fields, each set blank for the other protocol), so that routing, pages, the API and the
sign-in service (sso.services.sign_in_from_identity) are written once for both protocols.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from pmhub.models import Role

# Group -> role rows an owner may keep on one provider: enough for any real directory, small
# enough that a sign-in walks them in no time (bounded in the form, the API and the service).
MAX_GROUP_ROLES = 50
MAX_GROUP_NAME = 200


class IdentityProvider(models.Model):
    class Protocol(models.TextChoices):
        OIDC = "oidc", "OpenID Connect"
        SAML = "saml", "SAML 2.0"

    # Configuration that is a credential: never exported with the workspace (pmhub.portability).
    portability_exclude = True

    workspace = models.ForeignKey("pmhub.Workspace", on_delete=models.CASCADE, related_name="identity_providers")
    name = models.CharField(max_length=120, help_text="What the sign-in page shows, e.g. \"Okta\".")
    protocol = models.CharField(max_length=4, choices=Protocol.choices, default=Protocol.OIDC)
    enabled = models.BooleanField(default=True)

    # --- OpenID Connect ---------------------------------------------------------------------
    # The issuer; the rest (endpoints, JWKS) comes from <issuer>/.well-known/openid-configuration.
    issuer = models.URLField(max_length=500, blank=True)
    client_id = models.CharField(max_length=255, blank=True)
    # Sealed with pmhub.secretbox; never returned by a page or the API (write-only).
    client_secret_sealed = models.TextField(blank=True)
    scopes = models.CharField(max_length=255, blank=True, default="openid email profile",
                              help_text="Space-separated; \"openid\" is always requested.")
    # The claim holding the person's groups (Okta/Keycloak "groups", Entra ID "groups" or "roles").
    groups_claim = models.CharField(max_length=100, blank=True, default="groups")

    # --- SAML 2.0 (filled in by the SAML side) -------------------------------------------------
    metadata_url = models.URLField(max_length=500, blank=True)
    metadata_xml = models.TextField(blank=True)
    # The identity provider's entity id (from its metadata); our own (SP) entity id is derived
    # from the provider's URL (see docs/sso.md).
    entity_id = models.CharField(max_length=500, blank=True)
    # Fetched metadata (from metadata_url, by the worker): when it last succeeded, and why the
    # last attempt failed ("" when it did not). The last good metadata_xml stays in use.
    metadata_fetched_at = models.DateTimeField(null=True, blank=True)
    metadata_error = models.CharField(max_length=300, blank=True)
    # SAML attribute names for the e-mail and the name ("" = the defaults of sso/saml.py, which
    # cover Okta, Entra ID, Google Workspace and Keycloak); groups use groups_claim above.
    email_attribute = models.CharField(max_length=200, blank=True)
    name_attribute = models.CharField(max_length=200, blank=True)

    # --- Accounts and roles -------------------------------------------------------------------
    # Role of a just-in-time account, and of anyone whose groups map to no role.
    default_role = models.PositiveSmallIntegerField(choices=Role.choices, default=Role.VIEWER)
    # [{"group": "pm-admins", "role": 30}, ...]; at most MAX_GROUP_ROLES rows (sso.services.group_roles_clean).
    group_roles = models.JSONField(default=list, blank=True)
    # Whether a sign-in may create an account for an unknown e-mail of a verified domain.
    jit_enabled = models.BooleanField(default=True)

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)  # optimistic locking: pmhub.utils.version_claim

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name

    def login_path(self) -> str:
        """Where "Continue with SSO" sends a person for this provider: each protocol serves a URL
        named `sso:<protocol>_login` taking the provider's id (sso/public_urls.py); "" when none does."""
        from django.urls import NoReverseMatch, reverse

        try:
            return reverse(f"sso:{self.protocol}_login", args=[self.pk])
        except NoReverseMatch:
            return ""

    def callback_url(self) -> str:
        """The absolute redirect URI an owner registers at the provider (`sso:<protocol>_callback`);
        "" when the protocol serves no such URL."""
        from django.urls import NoReverseMatch, reverse

        try:
            return settings.SITE_URL + reverse(f"sso:{self.protocol}_callback", args=[self.pk])
        except NoReverseMatch:
            return ""


class SsoDomain(models.Model):
    """An e-mail domain a workspace claims. Claimed, it does nothing; verified (a DNS TXT record
    with the token, see sso.services.domain_verify), it routes "Continue with SSO" to the
    workspace's providers, lets those providers sign people of that domain in, and may require SSO.

    Several workspaces may claim a domain (nobody can squat on one by typing it first); only one
    may have it verified (a partial unique constraint), decision 1801."""

    portability_exclude = True

    workspace = models.ForeignKey("pmhub.Workspace", on_delete=models.CASCADE, related_name="sso_domains")
    domain = models.CharField(max_length=253)  # lower case, no trailing dot (sso.services.domain_normalise)
    verification_token = models.CharField(max_length=64)
    verified_at = models.DateTimeField(null=True, blank=True)
    # Passwords refused for people of this domain (break-glass: settings.SSO_BREAK_GLASS_EMAILS).
    require_sso = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["domain", "id"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "domain"], name="sso_domain_unique_ws"),
            models.UniqueConstraint(fields=["domain"], condition=Q(verified_at__isnull=False),
                                    name="sso_domain_verified_once"),
        ]

    def __str__(self):
        return self.domain

    @property
    def verified(self) -> bool:
        return self.verified_at is not None

    @property
    def txt_record(self) -> str:
        """The DNS TXT value the domain's owner publishes (at the domain itself)."""
        return f"pmhub-verification={self.verification_token}"


class SsoIdentity(models.Model):
    """A person's identity at one provider: the OIDC `sub` or the SAML NameID. Found first at every
    sign-in, so a changed e-mail at the provider still reaches the same account."""

    portability_exclude = True

    provider = models.ForeignKey(IdentityProvider, on_delete=models.CASCADE, related_name="identities")
    subject = models.CharField(max_length=255)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sso_identities")
    # The role the last sign-in's groups gave (or the default role), decision 1802.
    granted_role = models.PositiveSmallIntegerField(choices=Role.choices, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_login_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_login_at", "id"]
        constraints = [models.UniqueConstraint(fields=["provider", "subject"], name="sso_identity_unique_subject")]

    def __str__(self):
        return f"{self.subject} at {self.provider_id}"
