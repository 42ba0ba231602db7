"""Backlog tables: epics, stories, acceptance criteria, comments, custom fields, saved views and
scoring models (customer feedback lives in discovery's insights inbox: decision 1613).

Rank keys: see docs/decisions/0400-ranking.md. Scores: docs/decisions/0401-scoring.md.
"""

from django.conf import settings
from django.db import models

from pmhub.querysets import AfterFetchQuerySet

from . import ranking

# Status keys of the default workflow; "done" counts toward progress, "wont_do" is left out.
DEFAULT_WORKFLOW = [
    ("idea", "Idea"),
    ("ready", "Ready"),
    ("in_progress", "In progress"),
    ("in_review", "In review"),
    ("done", "Done"),
    ("wont_do", "Won't do"),
]
# Every workflow status maps to one of these categories, so "done" is knowable for any product.
CATEGORY_TODO, CATEGORY_ACTIVE, CATEGORY_DONE, CATEGORY_EXCLUDED = "todo", "active", "done", "excluded"
CATEGORIES = [CATEGORY_TODO, CATEGORY_ACTIVE, CATEGORY_DONE, CATEGORY_EXCLUDED]
DEFAULT_WORKFLOW_CATEGORIES = {
    "idea": CATEGORY_TODO, "ready": CATEGORY_TODO, "in_progress": CATEGORY_ACTIVE,
    "in_review": CATEGORY_ACTIVE, "done": CATEGORY_DONE, "wont_do": CATEGORY_EXCLUDED,
}
# What is done or left out is always asked of the product's workflow (backlog.selectors.status_keys,
# category_filters; backlog/progress.py), never of a status name: docs/decisions/1101.


def default_workflow() -> list[dict]:
    return [{"key": k, "label": label, "category": DEFAULT_WORKFLOW_CATEGORIES[k]} for k, label in DEFAULT_WORKFLOW]


class RankField(models.CharField):
    """A rank key compared byte by byte: "C" collation on PostgreSQL (SQLite is binary already).

    Keys use only 0-9a-z, but a linguistic collation (en_US.UTF-8) may still order keys
    differently from the algorithm that made them, so the column is collated "C" explicitly.
    """

    def db_parameters(self, connection):
        params = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            params["collation"] = "C"
        return params


class BacklogSettings(models.Model):
    """Per-product backlog settings: the workflow (statuses with categories) and segment weights."""

    product = models.OneToOneField("roadmaps.Product", on_delete=models.CASCADE, related_name="backlog_settings")
    workflow = models.JSONField(default=default_workflow)
    segment_weights = models.JSONField(default=dict, blank=True)

    def __str__(self):
        return f"Backlog settings of {self.product_id}"


class Epic(models.Model):
    product = models.ForeignKey("roadmaps.Product", on_delete=models.CASCADE, related_name="epics")
    initiative = models.ForeignKey("roadmaps.Initiative", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="epics")
    release = models.ForeignKey("roadmaps.Release", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="epics")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text="Markdown.")
    status = models.CharField(max_length=30, default="idea")
    score_inputs = models.JSONField(default=dict, blank=True)
    score = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    # Customer demand: what the registered epic demand providers give it (backlog/demand.py; discovery:
    # the insights highlighted for the epic and its stories), kept by services.demand_recompute.
    demand = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    custom_values = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AfterFetchQuerySet.as_manager()

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.title


class Story(models.Model):
    class MoSCoW(models.TextChoices):
        MUST = "must", "Must have"
        SHOULD = "should", "Should have"
        COULD = "could", "Could have"
        WONT = "wont", "Won't have"

    class Kano(models.TextChoices):
        BASIC = "basic", "Basic (must-be)"
        PERFORMANCE = "performance", "Performance"
        ATTRACTIVE = "attractive", "Attractive (delighter)"
        INDIFFERENT = "indifferent", "Indifferent"
        REVERSE = "reverse", "Reverse"

    product = models.ForeignKey("roadmaps.Product", on_delete=models.CASCADE, related_name="stories")
    epic = models.ForeignKey(Epic, null=True, blank=True, on_delete=models.SET_NULL, related_name="stories")
    title = models.CharField(max_length=200)
    as_a = models.CharField("As a", max_length=200, blank=True)
    i_want = models.TextField("I want", blank=True)
    so_that = models.TextField("So that", blank=True)
    description = models.TextField(blank=True, help_text="Markdown.")
    status = models.CharField(max_length=30, default="idea")
    points = models.PositiveSmallIntegerField(null=True, blank=True)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    labels = models.JSONField(default=list, blank=True)
    rank = RankField(max_length=64, default=ranking.bottom_key)
    score_inputs = models.JSONField(default=dict, blank=True)
    score = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    moscow = models.CharField(max_length=10, choices=MoSCoW.choices, blank=True)
    kano = models.CharField(max_length=12, choices=Kano.choices, blank=True)
    # Customer demand: what the registered demand providers give it (backlog/demand.py; discovery's
    # highlighted insights, where all customer feedback lives: decision 1613), kept by services.
    demand = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    custom_values = models.JSONField(default=dict, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["rank", "id"]
        verbose_name_plural = "stories"
        constraints = [models.UniqueConstraint(fields=["product", "rank"], name="backlog_story_unique_rank")]
        indexes = [
            models.Index(fields=["product", "score"], name="backlog_story_score_idx"),
            # The counts and figures over a product's stories as index-only scans, without reading
            # the wide rows: the status board's count and points per status, work progress of
            # products (home, the product list; decision 1956) and of initiatives (the roadmap
            # timeline and board: a hash join of this index with the epics). One index for all
            # three (decision 2011; it replaced 1956's partial index on the planned stories).
            models.Index(fields=["product", "status"], include=["points", "epic", "id"],
                         name="backlog_story_status_idx"),
        ]

    def __str__(self):
        return self.title


class AcceptanceCriterion(models.Model):
    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="criteria")
    text = models.CharField(max_length=500)
    done = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.text


class Comment(models.Model):
    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField(help_text="Markdown; @email mentions notify.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return self.body[:50]


class CustomField(models.Model):
    class Type(models.TextChoices):
        TEXT = "text", "Text"
        NUMBER = "number", "Number"
        SINGLE_SELECT = "single_select", "Single select"
        MULTI_SELECT = "multi_select", "Multi select"
        DATE = "date", "Date"
        USER = "user", "User"
        URL = "url", "URL"

    class Entity(models.TextChoices):
        STORY = "story", "Story"
        EPIC = "epic", "Epic"

    product = models.ForeignKey("roadmaps.Product", on_delete=models.CASCADE, related_name="custom_fields")
    entity = models.CharField(max_length=5, choices=Entity.choices, default=Entity.STORY)
    key = models.SlugField(max_length=40)
    label = models.CharField(max_length=80)
    type = models.CharField(max_length=15, choices=Type.choices)
    options = models.JSONField(default=list, blank=True, help_text="Choices of select fields.")
    required = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)  # optimistic locking: pmhub.utils.version_claim

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["product", "entity", "key"], name="backlog_cf_unique_key")]

    def __str__(self):
        return self.label

    @property
    def cf_name(self) -> str:
        """Name of this field in forms, filters and error bodies."""
        return f"cf_{self.key}"


class SavedView(models.Model):
    """A named backlog view: columns, filters, grouping and sort; personal or shared."""

    product = models.ForeignKey("roadmaps.Product", on_delete=models.CASCADE, related_name="saved_views")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=80)
    shared = models.BooleanField(default=False)
    config = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1)  # optimistic locking: pmhub.utils.version_claim

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class ScoringModel(models.Model):
    """The product's prioritization model. `criteria` only for the weighted framework:
    [{"key", "label", "weight", "against": bool, "source": "input"|"custom_field"|"demand"}]."""

    class Framework(models.TextChoices):
        RICE = "rice", "RICE"
        WSJF = "wsjf", "WSJF"
        VALUE_EFFORT = "value_effort", "Value vs effort"
        ICE = "ice", "ICE"
        MOSCOW = "moscow", "MoSCoW"
        KANO = "kano", "Kano"
        WEIGHTED = "weighted", "Weighted criteria"

    product = models.OneToOneField("roadmaps.Product", on_delete=models.CASCADE, related_name="scoring_model")
    framework = models.CharField(max_length=15, choices=Framework.choices, default=Framework.RICE)
    criteria = models.JSONField(default=list, blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.get_framework_display()} model of product {self.product_id}"
