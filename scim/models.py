"""SCIM 2.0 provisioning (RFC 7643/7644): per-workspace bearer tokens, the workspace's SCIM
settings, the SCIM view of a person in a workspace (ScimUser: a PMHub account plus its
membership, with the identity provider's userName and externalId), groups mapped to roles,
and the index of a person's sessions so deprovisioning can end them at once."""

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from pmhub.models import Role, Workspace


class ScimConfig(models.Model):
    """One per workspace, made on first use: the role a provisioned person gets when no mapped
    group gives one (docs/decisions/1822-scim-group-roles.md)."""

    workspace = models.OneToOneField(Workspace, on_delete=models.CASCADE, related_name="scim_config")
    default_role = models.PositiveSmallIntegerField(choices=Role.choices, default=Role.VIEWER)
    version = models.PositiveIntegerField(default=1)

    def __str__(self):
        return f"SCIM settings of {self.workspace_id}"


class ScimToken(models.Model):
    """The identity provider's credential for one workspace; stored as a hash like ApiToken."""

    KEY_PREFIX = "pmscim_"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="scim_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def generate_key(cls) -> str:
        return cls.KEY_PREFIX + secrets.token_urlsafe(32)


class ScimUser(models.Model):
    """A SCIM User resource: one PMHub account as one workspace's identity provider knows it.
    The account (e-mail, sign-in) is global; userName, externalId, the name parts and the e-mail
    list are this workspace's view of it, so two workspaces' providers never overwrite each other.
    `active` false keeps the row (the provider may reactivate) while the membership is gone."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="scim_users")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="scim_identities")
    user_name = models.CharField(max_length=255)
    external_id = models.CharField(max_length=255, blank=True)
    display_name = models.CharField(max_length=255, blank=True)
    name_formatted = models.CharField(max_length=255, blank=True)
    name_given = models.CharField(max_length=150, blank=True)
    name_family = models.CharField(max_length=150, blank=True)
    emails = models.JSONField(default=list, blank=True)
    # None: the provider removed the attribute (RFC 7643 §2.5, unassigned); the person stays in.
    active = models.BooleanField(null=True, default=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user"], name="scimuser_unique_ws_user"),
            models.UniqueConstraint(Lower("user_name"), "workspace", name="scimuser_unique_ws_username"),
            models.UniqueConstraint(fields=["workspace", "external_id"], condition=~models.Q(external_id=""),
                                    name="scimuser_unique_ws_externalid"),
        ]

    def __str__(self):
        return self.user_name

    @property
    def is_in(self) -> bool:
        """Whether the person is provisioned (a member): anything but an explicit `active: false`."""
        return self.active is not False


class ScimGroup(models.Model):
    """A SCIM Group; `role` (set by a workspace admin in PMHub, never by the provider) makes its
    members at least that role; None means the group has no effect on roles."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="scim_groups")
    display_name = models.CharField(max_length=255)
    external_id = models.CharField(max_length=255, blank=True)
    role = models.PositiveSmallIntegerField(choices=Role.choices, null=True, blank=True)
    members = models.ManyToManyField(ScimUser, related_name="groups", blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["display_name", "id"]
        constraints = [
            models.UniqueConstraint(Lower("display_name"), "workspace", name="scimgroup_unique_ws_name"),
            models.UniqueConstraint(fields=["workspace", "external_id"], condition=~models.Q(external_id=""),
                                    name="scimgroup_unique_ws_externalid"),
        ]

    def __str__(self):
        return self.display_name


class SessionRecord(models.Model):
    """user -> session keys, written by scim.middleware.SessionIndexMiddleware, so ending a person's
    sessions is one indexed query instead of decoding every session (decision 1821)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"session of {self.user_id}"
