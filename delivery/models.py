"""Delivery tables: iterations and their membership history, the story status history that
burn charts read, release scope with approvals and change requests, and import staging."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Iteration(models.Model):
    """A sprint of a product: dates (inclusive) and a capacity in points."""

    product = models.ForeignKey("roadmaps.Product", on_delete=models.CASCADE, related_name="iterations")
    name = models.CharField(max_length=120)
    goal = models.CharField(max_length=300, blank=True)
    start_date = models.DateField()
    end_date = models.DateField()
    capacity_points = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)  # optimistic locking: pmhub.utils.version_claim

    class Meta:
        ordering = ["start_date", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=models.F("start_date")), name="iteration_dates_ordered"),
        ]

    def __str__(self):
        return self.name

    @property
    def length_days(self) -> int:
        return (self.end_date - self.start_date).days + 1


class IterationItem(models.Model):
    """A story's stay in an iteration. `removed_at` null = still there; the history of stays
    is what burn-up's scope line is drawn from. One open stay per story (partial unique)."""

    iteration = models.ForeignKey(Iteration, on_delete=models.CASCADE, related_name="items")
    story = models.ForeignKey("backlog.Story", on_delete=models.CASCADE, related_name="iteration_items")
    added_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["story"], condition=Q(removed_at__isnull=True),
                                    name="iteration_item_one_open_stay_per_story"),
        ]
        indexes = [models.Index(fields=["iteration", "removed_at"], name="iteration_item_open")]

    def __str__(self):
        return f"{self.story_id} in {self.iteration_id}"


class StoryStatusEvent(models.Model):
    """A story's status changed (recorded from backlog.signals.story_status_changed).
    The source of truth for burn-down/up and velocity (see docs/decisions/0501)."""

    product = models.ForeignKey("roadmaps.Product", on_delete=models.CASCADE, related_name="+")
    story = models.ForeignKey("backlog.Story", on_delete=models.CASCADE, related_name="status_events")
    old_status = models.CharField(max_length=30, null=True, blank=True)
    new_status = models.CharField(max_length=30)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["story", "at"], name="story_status_event_story_at")]

    def __str__(self):
        return f"{self.story_id}: {self.old_status} -> {self.new_status}"


class ReleaseScopeItem(models.Model):
    release = models.ForeignKey("roadmaps.Release", on_delete=models.CASCADE, related_name="scope_items")
    story = models.ForeignKey("backlog.Story", on_delete=models.CASCADE, related_name="release_scope_items")
    added_at = models.DateTimeField(default=timezone.now)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [models.UniqueConstraint(fields=["release", "story"], name="release_scope_unique_story")]

    def __str__(self):
        return f"{self.story_id} in release {self.release_id}"


class ScopeApproval(models.Model):
    """A snapshot of a release's scope, approved by an admin: the baseline that later changes
    are compared with and that makes further scope changes go through change requests."""

    release = models.ForeignKey("roadmaps.Release", on_delete=models.CASCADE, related_name="scope_approvals")
    story_ids = models.JSONField(default=list)
    total_points = models.PositiveIntegerField(default=0)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    approved_at = models.DateTimeField(default=timezone.now)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-approved_at", "-id"]
        get_latest_by = "approved_at"

    def __str__(self):
        return f"Scope of release {self.release_id} approved {self.approved_at:%Y-%m-%d}"


class ChangeRequest(models.Model):
    class Kind(models.TextChoices):
        ADD = "add", "Add story"
        REMOVE = "remove", "Remove story"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    release = models.ForeignKey("roadmaps.Release", on_delete=models.CASCADE, related_name="change_requests")
    story = models.ForeignKey("backlog.Story", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=6, choices=Kind.choices)
    reason = models.TextField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    points_delta = models.IntegerField(default=0)
    velocity = models.FloatField(null=True, blank=True, help_text="Average points per iteration used.")
    iteration_days = models.PositiveIntegerField(null=True, blank=True)
    date_impact_days = models.IntegerField(null=True, blank=True)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["release", "story", "kind"], condition=Q(status="pending"),
                                    name="change_request_one_pending_per_story"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.story_id} ({self.status})"


class ImportJob(models.Model):
    """Server-side staging of a CSV import: the request stores the raw file (`parsing`), the
    worker decodes and parses it into rows (`uploaded`, ready to map, or `failed` with `error`);
    the rows wait here, through mapping and preview, until someone confirms; nothing touches the
    backlog before that (docs/decisions/1213-imports-parsed-in-the-worker.md)."""

    class Status(models.TextChoices):
        PARSING = "parsing", "Reading the file"
        UPLOADED = "uploaded", "Ready to map"
        PREVIEWED = "previewed", "Previewed"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    product = models.ForeignKey("roadmaps.Product", on_delete=models.CASCADE, related_name="import_jobs")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    filename = models.CharField(max_length=255, blank=True)
    encoding = models.CharField(max_length=20, blank=True)
    raw = models.BinaryField(default=b"", blank=True)  # the upload until the worker has parsed it
    error = models.CharField(max_length=500, blank=True)  # why the file could not be read, for people
    headers = models.JSONField(default=list)
    rows = models.JSONField(default=list)
    mapping = models.JSONField(default=dict)
    preview = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.UPLOADED)
    job = models.ForeignKey("pmhub.BackgroundJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Import {self.filename or self.pk} ({self.status})"


class StoryImportRef(models.Model):
    """Where an imported story came from (issue key, row), with the description and labels as
    the file had them (the story itself carries its own, editable copies)."""

    product = models.ForeignKey("roadmaps.Product", on_delete=models.CASCADE, related_name="+")
    story = models.OneToOneField("backlog.Story", on_delete=models.CASCADE, related_name="import_ref")
    import_job = models.ForeignKey(ImportJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="refs")
    row_number = models.PositiveIntegerField(null=True, blank=True)
    key = models.CharField(max_length=60, blank=True)
    description = models.TextField(blank=True)
    labels = models.JSONField(default=list, blank=True)

    class Meta:
        indexes = [models.Index(fields=["product", "key"], name="story_import_ref_key")]
        constraints = [
            models.UniqueConstraint(fields=["import_job", "row_number"], name="story_import_ref_job_row"),
        ]

    def __str__(self):
        return self.key or f"story {self.story_id}"
