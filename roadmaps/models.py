"""Roadmap tables. Everything in PMHub hangs from a Product, which belongs to a Workspace."""

from django.conf import settings
from django.db import models

from pmhub.querysets import AfterFetchQuerySet


class ProductQuerySet(models.QuerySet):
    def alive(self):
        return self.filter(deleted_at__isnull=True)


class Product(models.Model):
    workspace = models.ForeignKey("pmhub.Workspace", on_delete=models.CASCADE, related_name="products")
    name = models.CharField(max_length=120)
    vision = models.TextField(blank=True, help_text="Markdown.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Soft delete: a deleted product can be restored for a period (see services).
    deleted_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)  # optimistic locking: pmhub.utils.version_claim

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Initiative(models.Model):
    """A theme of work on the roadmap."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        PLANNED = "planned", "Planned"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    class Horizon(models.TextChoices):
        NOW = "now", "Now"
        NEXT = "next", "Next"
        LATER = "later", "Later"

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="initiatives")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text="Markdown.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PROPOSED)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    horizon = models.CharField(max_length=5, choices=Horizon.choices, blank=True)
    version = models.PositiveIntegerField(default=1)
    # Labels stored as ",a,b," so one portable LIKE finds a label; read through `label_list`.
    labels = models.CharField(max_length=500, blank=True, default="")
    objectives = models.ManyToManyField("Objective", blank=True, related_name="initiatives")
    confidence = models.PositiveSmallIntegerField(default=50, help_text="Percent, 0-100.")
    release = models.ForeignKey("Release", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="initiatives")
    rank = models.FloatField(default=0, help_text="Order within a Now/Next/Later column.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AfterFetchQuerySet.as_manager()

    class Meta:
        ordering = ["start_date", "id"]

    def __str__(self):
        return self.title

    @property
    def label_list(self) -> list[str]:
        return [x for x in self.labels.split(",") if x]


class Release(models.Model):
    class Kind(models.TextChoices):
        RELEASE = "release", "Release"
        MILESTONE = "milestone", "Milestone"

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        RELEASED = "released", "Released"

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="releases")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    release_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLANNED)
    released_at = models.DateTimeField(null=True, blank=True)
    kind = models.CharField(max_length=9, choices=Kind.choices, default=Kind.RELEASE)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)  # optimistic locking: pmhub.utils.version_claim

    objects = AfterFetchQuerySet.as_manager()

    class Meta:
        ordering = ["release_date", "id"]

    def __str__(self):
        return self.name


# --- strategy ------------------------------------------------------------------------------
class BusinessCase(models.Model):
    product = models.OneToOneField(Product, on_delete=models.CASCADE, related_name="business_case")
    problem = models.TextField(blank=True, help_text="Markdown.")
    expected_value = models.TextField(blank=True, help_text="Markdown.")
    cost = models.TextField(blank=True, help_text="Markdown.")
    risks = models.TextField(blank=True, help_text="Markdown.")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Business case of {self.product}"


class Segment(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="segments")
    name = models.CharField(max_length=120)
    needs = models.TextField(blank=True, help_text="Markdown.")
    size = models.CharField(max_length=120, blank=True, help_text="E.g. '12,000 teams' or 'EUR 40M'.")
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1)  # optimistic locking: pmhub.utils.version_claim

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class Level(models.TextChoices):
    YES = "yes", "Yes"
    PARTIAL = "partial", "Partial"
    NO = "no", "No"


class Competitor(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="competitors")
    name = models.CharField(max_length=120)
    strengths = models.TextField(blank=True, help_text="Markdown.")
    weaknesses = models.TextField(blank=True, help_text="Markdown.")
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1)  # optimistic locking: pmhub.utils.version_claim

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class Capability(models.Model):
    """A row of the comparison grid: what we offer (`ours`) against each competitor."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="capabilities")
    name = models.CharField(max_length=120)
    ours = models.CharField(max_length=7, choices=Level.choices, default=Level.NO)
    version = models.PositiveIntegerField(default=1)  # optimistic locking: pmhub.utils.version_claim

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["product", "name"], name="capability_unique_name")]

    def __str__(self):
        return self.name


class CapabilityRating(models.Model):
    competitor = models.ForeignKey(Competitor, on_delete=models.CASCADE, related_name="ratings")
    capability = models.ForeignKey(Capability, on_delete=models.CASCADE, related_name="ratings")
    level = models.CharField(max_length=7, choices=Level.choices, default=Level.NO)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["competitor", "capability"], name="rating_unique")]

    def __str__(self):
        return f"{self.competitor_id}/{self.capability_id}: {self.level}"


# --- objectives ----------------------------------------------------------------------------
class Objective(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="objectives")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text="Markdown.")
    # A quarter ("2026-Q3") or custom dates; the service fills start/end from the quarter.
    quarter = models.CharField(max_length=7, blank=True)
    start_date = models.DateField()
    end_date = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)  # optimistic locking: pmhub.utils.version_claim

    objects = AfterFetchQuerySet.as_manager()

    class Meta:
        ordering = ["start_date", "id"]

    def __str__(self):
        return self.title


class KeyResult(models.Model):
    objective = models.ForeignKey(Objective, on_delete=models.CASCADE, related_name="key_results")
    title = models.CharField(max_length=200)
    start_value = models.DecimalField(max_digits=18, decimal_places=4, default=0)
    target_value = models.DecimalField(max_digits=18, decimal_places=4)
    current_value = models.DecimalField(max_digits=18, decimal_places=4, default=0)
    unit = models.CharField(max_length=20, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    kpi = models.ForeignKey("metrics.Kpi", null=True, blank=True, on_delete=models.SET_NULL,
                            related_name="key_results")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)  # optimistic locking: pmhub.utils.version_claim

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.title

    @property
    def current(self):
        """The KPI's latest value when linked (metrics keeps it current), else the typed value."""
        if self.kpi_id and self.kpi is not None and self.kpi.current_value is not None:
            return self.kpi.current_value
        return self.current_value

    @property
    def progress(self) -> float:
        from .progress import key_result_progress

        return key_result_progress(start=self.start_value, target=self.target_value, current=self.current)


# --- roadmap extras ------------------------------------------------------------------------
class Dependency(models.Model):
    """`blocker` must finish before `blocked` starts."""

    blocker = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="blocks")
    blocked = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="blocked_by")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["blocker", "blocked"], name="dependency_unique"),
            models.CheckConstraint(condition=~models.Q(blocker=models.F("blocked")), name="dependency_not_self"),
        ]

    def __str__(self):
        return f"{self.blocker_id} blocks {self.blocked_id}"


class RoadmapSnapshot(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="snapshots")
    name = models.CharField(max_length=120)
    data = models.JSONField(default=dict)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.name


SHARE_FILTER_KEYS = ("status", "horizon", "objective", "release", "label")


class ShareLink(models.Model):
    """A read-only link to one product's roadmap: the view (timeline, Now/Next/Later board or list)
    and the filters the sharer chose (decisions/1401). Only a hash of the token is stored."""

    class View(models.TextChoices):
        TIMELINE = "timeline", "Timeline"
        BOARD = "board", "Now / Next / Later board"
        LIST = "list", "List"

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="share_links")
    label = models.CharField(max_length=120, blank=True)
    view = models.CharField(max_length=10, choices=View.choices, default=View.TIMELINE)
    # {key: value} of SHARE_FILTER_KEYS, checked by roadmaps.services.share_filters_clean.
    filters = models.JSONField(default=dict, blank=True)
    allow_present = models.BooleanField(default=False, help_text="The link also opens presentation mode.")
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.label or f"Share link {self.prefix}…"

    def is_active(self, now) -> bool:
        return self.revoked_at is None and self.expires_at > now
