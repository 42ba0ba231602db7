"""Jira connections and the two-way sync (docs/decisions/1710-1716). Imported by integrations.models.

JiraConnection   one Jira site of a workspace (Cloud: e-mail + API token; Data Center: PAT), sealed.
JiraProjectLink  a product <-> a Jira project: issue types, field rules, status map, points field.
JiraIssueMap     the mapping table: remote id/key <-> story, last synced remote `updated`, per-field
                 fingerprints of both sides (idempotent re-runs, conflict detection, no echo).
JiraOutbox       a PMHub change to send, written in the transaction of the change.
JiraDelivery     an inbound webhook delivery, remembered by its identifier (processed once).
JiraSyncLog      every outbound and inbound change: time, object, fields, result, error.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from . import provider

SYNC_FIELDS = ("title", "description", "status", "points", "assignee", "labels", "epic", "release")
EPIC_SYNC_FIELDS = ("title", "description", "status", "release")  # what an epic has of them
FIELD_LABELS = {"title": "Title", "description": "Description", "status": "Status", "points": "Story points",
                "assignee": "Assignee", "labels": "Labels", "epic": "Epic link",
                "release": "Fix version (release)"}


class JiraConnection(models.Model):
    class Kind(models.TextChoices):
        CLOUD = "cloud", "Jira Cloud"
        DATA_CENTER = "dc", "Jira Data Center"
        GITHUB = "github", "GitHub issues"  # the same engine (integrations/github_sync/)

    class Health(models.TextChoices):
        UNTESTED = "untested", "Not tested yet"
        OK = "ok", "Working"
        FAILING = "failing", "Failing"
        AUTH = "auth", "Token expired or revoked"

    workspace = models.ForeignKey("pmhub.Workspace", on_delete=models.CASCADE, related_name="jira_connections")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=6, choices=Kind.choices, default=Kind.CLOUD)
    base_url = models.CharField(max_length=300, help_text="https://your-site.atlassian.net")
    email = models.EmailField(max_length=254, blank=True, help_text="Jira Cloud: the account's e-mail.")
    # API token (Cloud) or personal access token (Data Center): sealed (pmhub.secretbox), never returned.
    token_sealed = models.TextField()
    # Inbound webhooks: /integrations/jira/<hook_token>/, every delivery signed (X-Hub-Signature,
    # HMAC-SHA256) with the sealed secret; the secret is shown once when the connection is created.
    hook_token = models.CharField(max_length=40, unique=True)
    secret_sealed = models.TextField()
    health = models.CharField(max_length=10, choices=Health.choices, default=Health.UNTESTED)
    account_name = models.CharField(max_length=200, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    failures_in_row = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name

    @property
    def provider_label(self) -> str:
        """"GitHub" or "Jira" (integrations/jira/provider.py)."""
        return provider.provider_label(self.kind)

    @property
    def terms(self) -> dict:
        return provider.terms(self.kind)


class JiraProjectLink(models.Model):
    class OnDelete(models.TextChoices):
        UNLINK = "unlink", "Unlink only (keep the other side)"
        DELETE = "delete", "Delete on the other side too"

    connection = models.ForeignKey(JiraConnection, on_delete=models.CASCADE, related_name="links")
    product = models.ForeignKey("roadmaps.Product", on_delete=models.CASCADE, related_name="jira_links")
    project_key = models.CharField(max_length=140)  # Jira: ENG; GitHub: owner/name
    project_id = models.CharField(max_length=20, blank=True)
    story_issue_type = models.CharField(max_length=60, default="Story")
    epic_issue_type = models.CharField(max_length=60, default="Epic")
    # {field: {"direction": "both|to_jira|to_pmhub|once", "rule": "pmhub|jira|later"}}
    field_rules = models.JSONField(default=dict, blank=True)
    # Jira status id -> PMHub status key (inbound) and PMHub status key -> Jira status id (outbound),
    # proposed from both workflows by category, overridable per status.
    status_in = models.JSONField(default=dict, blank=True)
    status_out = models.JSONField(default=dict, blank=True)
    remote_statuses = models.JSONField(default=list, blank=True)  # [{id, name, category}] as last read
    points_field = models.CharField(max_length=40, blank=True)  # e.g. customfield_10016, from /field
    user_map = models.JSONField(default=dict, blank=True)  # e-mail -> Jira accountId (looked up once)
    jql = models.CharField(max_length=1000, blank=True)
    # The import preview / run, computed by the worker: {"state": "running|ready|importing|done|failed",
    # "jql", "counts": {create, link, skip}, "rows": [{key, summary, action, reason}], "error"}.
    preview = models.JSONField(default=dict, blank=True)
    on_delete = models.CharField(max_length=6, choices=OnDelete.choices, default=OnDelete.UNLINK)
    active = models.BooleanField(default=True)
    # The last reconcile's start (Jira's clock is not ours: a minute of overlap is kept).
    reconciled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["project_key", "id"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "product"], name="jira_link_product_once"),
            models.UniqueConstraint(fields=["connection", "project_key"], name="jira_link_project_once"),
        ]

    def __str__(self):
        return self.project_key

    @property
    def provider_label(self) -> str:
        return provider.provider_label(self.connection.kind)


class JiraIssueMap(models.Model):
    link = models.ForeignKey(JiraProjectLink, on_delete=models.CASCADE, related_name="issues")
    remote_id = models.CharField(max_length=20)
    remote_key = models.CharField(max_length=40)
    # Empty once unlinked (the story or the issue was deleted): the row stays so the log keeps its name.
    story = models.ForeignKey("backlog.Story", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="jira_issues")
    # An epic's issue (the link's epic issue type) maps to an epic instead of a story.
    epic = models.ForeignKey("backlog.Epic", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="jira_issues")
    remote_updated = models.CharField(max_length=40, blank=True)  # Jira's `updated`, as sent
    # {field: [local fingerprint, remote fingerprint]} as of the last sync of that field.
    fingerprints = models.JSONField(default=dict, blank=True)
    synced_at = models.DateTimeField(default=timezone.now)
    unlinked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-synced_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["link", "remote_id"], name="jira_map_remote_once"),
            models.UniqueConstraint(fields=["link", "story"], name="jira_map_story_once"),
            models.UniqueConstraint(fields=["link", "epic"], name="jira_map_epic_once"),
        ]

    def __str__(self):
        return self.remote_key


class JiraOutbox(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    class Action(models.TextChoices):
        UPSERT = "upsert", "Create or update"
        DELETE = "delete", "Delete"

    class Kind(models.TextChoices):
        STORY = "story", "Story"
        EPIC = "epic", "Epic"

    link = models.ForeignKey(JiraProjectLink, on_delete=models.CASCADE, related_name="outbox")
    kind = models.CharField(max_length=5, choices=Kind.choices, default=Kind.STORY)
    # The story's id (the epic's for kind=epic); 0 for a deletion, whose issue key is in remote_id.
    story_id = models.BigIntegerField()
    remote_id = models.CharField(max_length=40, blank=True, help_text="The issue's key (deletions).")
    action = models.CharField(max_length=6, choices=Action.choices, default=Action.UPSERT)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="jira_outbox_due")]

    def __str__(self):
        return f"{self.action} story {self.story_id}"


class JiraDelivery(models.Model):
    connection = models.ForeignKey(JiraConnection, on_delete=models.CASCADE, related_name="deliveries")
    delivery_id = models.CharField(max_length=80)
    event = models.CharField(max_length=60)
    issue_id = models.CharField(max_length=20, blank=True)
    project_key = models.CharField(max_length=140, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["connection", "delivery_id"], name="jira_delivery_once")]

    def __str__(self):
        return self.delivery_id


class JiraSyncLog(models.Model):
    class Direction(models.TextChoices):
        OUT = "out", "PMHub to Jira"
        IN = "in", "Jira to PMHub"
        IMPORT = "import", "Import"
        CHECK = "check", "Connection test"

    class Result(models.TextChoices):
        OK = "ok", "Done"
        CONFLICT = "conflict", "Conflict decided"
        SKIPPED = "skipped", "Skipped"
        FAILED = "failed", "Failed"
        RETRYING = "retrying", "Will retry"

    connection = models.ForeignKey(JiraConnection, on_delete=models.CASCADE, related_name="log")
    link = models.ForeignKey(JiraProjectLink, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    direction = models.CharField(max_length=6, choices=Direction.choices)
    story = models.ForeignKey("backlog.Story", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    object_label = models.CharField(max_length=240, blank=True)
    remote_key = models.CharField(max_length=40, blank=True)
    fields = models.JSONField(default=list, blank=True)
    result = models.CharField(max_length=8, choices=Result.choices)
    error = models.CharField(max_length=500, blank=True)
    detail = models.JSONField(default=dict, blank=True)  # conflicts: {field: {pmhub, jira, winner}}
    outbox = models.ForeignKey(JiraOutbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["connection", "-at"], name="jira_log_recent")]

    def __str__(self):
        return f"{self.direction} {self.object_label} {self.result}"

    @property
    def direction_label(self) -> str:
        """"GitHub to PMHub", "PMHub to Jira", ... (the stored code stays `in`/`out`)."""
        return provider.log_direction_label(self.direction, self.connection.kind)

    @property
    def field_labels(self) -> str:
        """The fields as people read them: "Story points, Title" (pages)."""
        return ", ".join(FIELD_LABELS.get(f, str(f).replace("_", " ").capitalize()) for f in self.fields or [])
