"""Adoption tables: features, ingestion keys, raw usage events, daily rollups and outcome reviews.

Raw events are written once and never updated; everything the pages show comes from the rollup
tables, which are recomputed whole per (product, local day). See docs/decisions/0700-*.md.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q


class Feature(models.Model):
    """A feature whose usage a product reports. `key` is the `feature` field of usage events;
    features are registered automatically by the rollup the first time their key is seen."""

    product = models.ForeignKey("roadmaps.Product", on_delete=models.CASCADE, related_name="adoption_features")
    key = models.CharField(max_length=100)
    name = models.CharField(max_length=120, blank=True)
    description = models.TextField(blank=True)
    # Target adoption in percent of weekly active users (0-100); the linked KPI's target wins if set.
    target_percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    # "The adoption target is a KPI like any other": the rollup writes adoption % into it.
    kpi = models.ForeignKey("metrics.Kpi", null=True, blank=True, on_delete=models.SET_NULL,
                            related_name="adoption_features")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)  # optimistic locking: pmhub.utils.version_claim

    class Meta:
        ordering = ["name", "key"]
        constraints = [models.UniqueConstraint(fields=["product", "key"], name="adoption_feature_unique_key")]

    def __str__(self):
        return self.name or self.key

    @property
    def label(self) -> str:
        return self.name or self.key

    @property
    def target(self):
        if self.kpi_id and self.kpi.target_value is not None:
            return self.kpi.target_value
        return self.target_percent


class IngestionKey(models.Model):
    """A per-product secret for sending usage events. Shown once, stored hashed, revocable.
    It is not a user token: it can only write events of its product."""

    KEY_PREFIX = "pmhi_"

    product = models.ForeignKey("roadmaps.Product", on_delete=models.CASCADE, related_name="ingestion_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12)
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


class UsageEvent(models.Model):
    """One raw usage event. (product, event_id, occurred_at) is unique: a re-sent event is ignored.

    On PostgreSQL the table is partitioned by month of occurred_at (adoption/partitions.py,
    docs/decisions/1910-usage-events-partitioned-by-month.md): its primary key there is
    (id, occurred_at) and every unique key includes occurred_at, while Django keeps `id` as the
    pk (the sequence keeps it unique). The migration adds a BRIN index on occurred_at."""

    id = models.BigAutoField(primary_key=True)
    product = models.ForeignKey("roadmaps.Product", on_delete=models.CASCADE, related_name="+", db_index=False,
                                db_constraint=False)  # see 0702: no per-row RI check
    event_id = models.CharField(max_length=100)
    feature_key = models.CharField(max_length=100)
    actor = models.CharField(max_length=100)
    occurred_at = models.DateTimeField()
    properties = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["product", "event_id", "occurred_at"],
                                               name="adoption_event_unique_id")]
        # The rollup reads one product's events in a [local midnight, next midnight) range.
        indexes = [models.Index(fields=["product", "occurred_at"], name="adoption_event_product_time")]

    def __str__(self):
        return f"{self.feature_key} by {self.actor} at {self.occurred_at:%Y-%m-%d %H:%M}"


class ActorDay(models.Model):
    """Distinct (feature, actor) pairs per local day, with their event count: the first stage of
    the rollup, and the source of windowed distinct counts (weekly active, adoption, retention)."""

    id = models.BigAutoField(primary_key=True)
    product = models.ForeignKey("roadmaps.Product", on_delete=models.CASCADE, related_name="+", db_index=False,
                                db_constraint=False)  # see 0702: no per-row RI check
    day = models.DateField()
    feature_key = models.CharField(max_length=100)
    actor = models.CharField(max_length=100)
    events = models.PositiveIntegerField(default=0)

    class Meta:
        # The rollup rebuilds one (product, day) slice; windows read day ranges; retention reads
        # its cohorts' actors of one feature (decision 1914).
        indexes = [models.Index(fields=["product", "day", "feature_key"], name="adoption_actorday_day"),
                   models.Index(fields=["product", "feature_key", "actor", "day"], name="adoption_actorday_actor")]

    def __str__(self):
        return f"{self.feature_key} by {self.actor} on {self.day}"


class FeatureFirstUse(models.Model):
    """The first local day each actor used each feature, kept by the rollup from ActorDay (a
    rollup of [first, last] replaces the rows whose day lies in the span and adds lower ones),
    so retention cohorts are a range read instead of a MIN(day) over the feature's whole history
    (docs/decisions/1914-feature-first-use.md)."""

    id = models.BigAutoField(primary_key=True)
    product = models.ForeignKey("roadmaps.Product", on_delete=models.CASCADE, related_name="+", db_index=False,
                                db_constraint=False)  # see 0702: no per-row RI check
    feature_key = models.CharField(max_length=100)
    actor = models.CharField(max_length=100)
    day = models.DateField()

    class Meta:
        # No unique key on purpose: an upsert would make a rollup wait for any other rollup of the
        # same product that touched the same actors (far-apart days must run side by side, 1113).
        # A pair may have more than one row; its first use is the lowest.
        indexes = [models.Index(fields=["product", "feature_key", "day"], name="adoption_firstuse_day"),
                   models.Index(fields=["product", "feature_key", "actor", "day"], name="adoption_firstuse_actor")]

    def __str__(self):
        return f"{self.feature_key} first used by {self.actor} on {self.day}"


class ActorLastDay(models.Model):
    """The last local day each actor used each feature ('' = any feature), kept by
    rollups.windows_refresh from the ActorDay days that changed since its previous run
    (WindowDirtyDay), so the distinct counts of the windows ending today are one pass over these
    rows instead of a year of ActorDay (docs/decisions/1915-incremental-rollups.md). Written only
    under the product's windows lock, hence a unique key without waits on other rollups."""

    id = models.BigAutoField(primary_key=True)
    product = models.ForeignKey(
        "roadmaps.Product", on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )  # see 0702: no per-row RI check
    feature_key = models.CharField(max_length=100, blank=True)
    actor = models.CharField(max_length=100)
    day = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["product", "feature_key", "actor"], name="adoption_actorlastday_unique")
        ]
        indexes = [models.Index(fields=["product", "day"], name="adoption_actorlastday_day")]

    def __str__(self):
        return f"{self.feature_key or 'any feature'} last used by {self.actor} on {self.day}"


class WindowDirtyDay(models.Model):
    """What changed in ActorDay since windows_refresh last ran: a pair (feature, actor) that
    appeared on `day`, or (`rebuild`, feature_key and actor blank) a day where pairs vanished or
    that was rebuilt whole, after which ActorLastDay is recomputed from ActorDay. The rollup
    inserts these rows in its own transaction; windows_refresh consumes them under the product's
    windows lock. Plain inserts, no unique key: rollups of distant days never wait on each other
    here (docs/decisions/1915-incremental-rollups.md)."""

    id = models.BigAutoField(primary_key=True)
    product = models.ForeignKey(
        "roadmaps.Product", on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    day = models.DateField()
    feature_key = models.CharField(max_length=100, blank=True)
    actor = models.CharField(max_length=100, blank=True)
    rebuild = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["product"], name="adoption_windowdirty_product")]

    def __str__(self):
        return f"product {self.product_id}: {self.day} changed"


class FeatureDaily(models.Model):
    """Per feature and local day: distinct users and events that day, and distinct users in the
    7 days ending that day (users_7d)."""

    product = models.ForeignKey("roadmaps.Product", on_delete=models.CASCADE, related_name="+", db_index=False)
    feature = models.ForeignKey(Feature, on_delete=models.CASCADE, related_name="dailies")
    day = models.DateField()
    users = models.PositiveIntegerField(default=0)
    events = models.PositiveIntegerField(default=0)
    users_7d = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["day", "feature_id"]
        constraints = [models.UniqueConstraint(fields=["feature", "day"], name="adoption_featuredaily_unique")]
        indexes = [models.Index(fields=["product", "day"], name="adoption_featuredaily_day")]

    def __str__(self):
        return f"feature {self.feature_id} on {self.day}: {self.users} users"


class ProductDaily(models.Model):
    """Per product and local day: active users (any feature) that day and in the 7 days ending it."""

    product = models.ForeignKey("roadmaps.Product", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    active_users = models.PositiveIntegerField(default=0)
    events = models.PositiveIntegerField(default=0)
    active_7d = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["day"]
        constraints = [models.UniqueConstraint(fields=["product", "day"], name="adoption_productdaily_unique")]

    def __str__(self):
        return f"product {self.product_id} on {self.day}: {self.active_users} active"


class TouchedDay(models.Model):
    """(product, local day) pairs that received events since their last rollup. The ingestion
    upserts them (one statement per batch) and enqueues a rollup only when a day turns pending,
    so a burst of batches for today queues one rollup, not one per batch."""

    product = models.ForeignKey("roadmaps.Product", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    pending = models.BooleanField(default=True)
    touched_at = models.DateTimeField()
    rolled_up_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["product", "day"], name="adoption_touchedday_unique")]

    def __str__(self):
        return f"product {self.product_id} on {self.day} ({'pending' if self.pending else 'rolled up'})"


class OutcomeReview(models.Model):
    """Predicted vs measured outcome of one shipped epic or initiative on one success KPI."""

    product = models.ForeignKey("roadmaps.Product", on_delete=models.CASCADE, related_name="outcome_reviews")
    release = models.ForeignKey("roadmaps.Release", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="outcome_reviews")
    epic = models.ForeignKey("backlog.Epic", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="outcome_reviews")
    initiative = models.ForeignKey("roadmaps.Initiative", null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="outcome_reviews")
    kpi = models.ForeignKey("metrics.Kpi", on_delete=models.CASCADE, related_name="outcome_reviews")
    released_at = models.DateTimeField()
    baseline_value = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    baseline_at = models.DateField(null=True, blank=True)
    # Score and its inputs as they were at release ({"score": 12.5, "reach": ..., ...}).
    predicted = models.JSONField(default=dict, blank=True)
    predicted_score = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-released_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(epic__isnull=False) | Q(initiative__isnull=False),
                                   name="adoption_review_has_subject"),
            models.UniqueConstraint(fields=["epic", "kpi"], condition=Q(epic__isnull=False),
                                    name="adoption_review_unique_epic_kpi"),
            models.UniqueConstraint(fields=["initiative", "kpi"], condition=Q(initiative__isnull=False),
                                    name="adoption_review_unique_initiative_kpi"),
        ]

    def __str__(self):
        return f"Outcome of {self.subject} on {self.kpi_id}"

    @property
    def subject(self):
        return self.epic if self.epic_id else self.initiative

    @property
    def subject_kind(self) -> str:
        return "epic" if self.epic_id else "initiative"


class OutcomeCheckpoint(models.Model):
    """The KPI value measured `window_days` after release; due ones are filled by a beat task."""

    WINDOWS = (30, 90)

    review = models.ForeignKey(OutcomeReview, on_delete=models.CASCADE, related_name="checkpoints")
    window_days = models.PositiveSmallIntegerField()
    due_at = models.DateTimeField()
    value = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    measured_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["window_days"]
        constraints = [models.UniqueConstraint(fields=["review", "window_days"], name="adoption_checkpoint_unique")]
        indexes = [models.Index(fields=["due_at"], condition=Q(measured_at__isnull=True),
                                name="adoption_checkpoint_due")]

    def __str__(self):
        return f"{self.window_days}-day checkpoint of review {self.review_id}"


class WindowCount(models.Model):
    """Distinct users of each feature ('' = any feature) in the `days` local days ending `end`,
    for the dashboards' standard periods (30, 90, 365 days). A distinct count over a quarter of
    events is seconds on a large product, so the worker computes these after each rollup and the
    dashboards read a few rows (docs/decisions/0705-precomputed-funnel-windows.md)."""

    product = models.ForeignKey("roadmaps.Product", on_delete=models.CASCADE, related_name="+", db_index=False)
    end = models.DateField()
    days = models.PositiveSmallIntegerField()
    feature_key = models.CharField(max_length=100, blank=True)
    users = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["product", "days", "end", "feature_key"],
                                               name="adoption_windowcount_unique")]

    def __str__(self):
        return f"product {self.product_id}, {self.days} days to {self.end}, {self.feature_key or 'all'}: {self.users}"
