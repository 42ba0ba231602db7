"""Metrics tables: KPIs, their measurements per period, health history and action plans."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Health(models.TextChoices):
    UNKNOWN = "unknown", "No data"
    ON_TRACK = "on_track", "On track"
    AT_RISK = "at_risk", "At risk"
    OFF_TRACK = "off_track", "Off track"


class Kpi(models.Model):
    class Direction(models.TextChoices):
        HIGHER = "higher", "Higher is better"
        LOWER = "lower", "Lower is better"

    class Unit(models.TextChoices):
        COUNT = "count", "Count"
        PERCENT = "percent", "%"
        CURRENCY = "currency", "Currency"
        DURATION = "duration", "Duration"

    class Aggregation(models.TextChoices):
        SUM = "sum", "Sum"
        AVERAGE = "average", "Average"
        LAST = "last", "Last value"
        COUNT_DISTINCT = "count_distinct", "Count distinct"

    class Cadence(models.TextChoices):
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly"
        MONTHLY = "monthly", "Monthly"

    product = models.ForeignKey("roadmaps.Product", on_delete=models.CASCADE, related_name="kpis")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    unit = models.CharField(max_length=20, choices=Unit.choices, default=Unit.COUNT)
    direction = models.CharField(max_length=6, choices=Direction.choices, default=Direction.HIGHER)
    aggregation = models.CharField(max_length=20, choices=Aggregation.choices, default=Aggregation.SUM)
    cadence = models.CharField(max_length=10, choices=Cadence.choices, default=Cadence.DAILY)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    target_value = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    target_date = models.DateField(null=True, blank=True)
    # Start of the straight line to the target; when blank, the first measurement is the baseline.
    baseline_value = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    baseline_date = models.DateField(null=True, blank=True)
    warning_threshold = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    critical_threshold = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    # Latest measured value, kept current by the measurement services (key results follow it).
    current_value = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    current_at = models.DateField(null=True, blank=True)
    health = models.CharField(max_length=10, choices=Health.choices, default=Health.UNKNOWN)
    health_at = models.DateTimeField(null=True, blank=True)
    initiatives = models.ManyToManyField("roadmaps.Initiative", blank=True, related_name="kpis")
    epics = models.ManyToManyField("backlog.Epic", blank=True, related_name="kpis")
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def target_text(self) -> str:
        """"35 by 31 Mar 2027", "35" or "none", in the KPI's unit (metrics.figures.target_text)."""
        from .figures import target_text

        return target_text(self.target_value, self.target_date, self.unit)


class Measurement(models.Model):
    """One value per KPI and period (the local day, week or month the value belongs to)."""

    class Source(models.TextChoices):
        MANUAL = "manual", "Entered"
        CSV = "csv", "CSV upload"
        API = "api", "API"
        DEMO = "demo", "Demo data"

    kpi = models.ForeignKey(Kpi, on_delete=models.CASCADE, related_name="measurements")
    period_start = models.DateField()
    value = models.DecimalField(max_digits=18, decimal_places=4)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kpi", "period_start"]
        constraints = [models.UniqueConstraint(fields=["kpi", "period_start"], name="measurement_kpi_period")]

    def __str__(self):
        return f"{self.kpi_id} {self.period_start}: {self.value}"


class KpiMeasured(models.Model):
    """A stamp of each KPI's measurements that changes whenever one of them is written: the
    dashboards' cache key (metrics.selectors._dashboard_key) reads it with the KPIs instead of
    aggregating their measurements on every view (decision 2321).

    The database writes it, not Python: triggers on metrics_measurement (insert, update, delete,
    whatever the statement: a service's upsert, bulk_create, a queryset update or delete, a
    cascade) and on a KPI's insert set it to a new value of a sequence (PostgreSQL) or a random
    64-bit number (SQLite) in the writing transaction (migration 0007). A stamp is never reused,
    even after a rollback, so a key never names two states. No foreign key: a KPI's cascade
    deletes its measurements, which writes a stamp for the KPI being deleted."""

    kpi_id = models.BigIntegerField(primary_key=True)
    stamp = models.BigIntegerField()

    def __str__(self):
        return f"{self.kpi_id}: {self.stamp}"


class KpiHealth(models.Model):
    """A health transition of a KPI (a row only when the status changes)."""

    kpi = models.ForeignKey(Kpi, on_delete=models.CASCADE, related_name="health_history")
    status = models.CharField(max_length=10, choices=Health.choices)
    previous_status = models.CharField(max_length=10, choices=Health.choices, default=Health.UNKNOWN)
    value = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    expected_value = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    as_of = models.DateField(null=True, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    evaluated_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-evaluated_at", "-id"]

    def __str__(self):
        return f"{self.kpi_id}: {self.previous_status} -> {self.status}"


class ActionPlan(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        CLOSED = "closed", "Closed"

    kpi = models.ForeignKey(Kpi, on_delete=models.CASCADE, related_name="action_plans")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    title = models.CharField(max_length=200)
    steps = models.TextField(blank=True, help_text="Markdown; one step per line.")
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    opened_by_health = models.ForeignKey(KpiHealth, null=True, blank=True, on_delete=models.SET_NULL,
                                         related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_reason = models.CharField(max_length=20, blank=True)  # "recovered" or "manual"
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)  # optimistic locking: pmhub.utils.version_claim

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # At most one plan not closed per KPI: evaluating twice cannot open two.
            models.UniqueConstraint(fields=["kpi"], condition=~Q(status="closed"), name="actionplan_one_open_per_kpi"),
        ]

    def __str__(self):
        return self.title


class MeasurementUpload(models.Model):
    """A CSV waiting for confirmation: the request stores the file (`parsing`), the worker parses
    it into rows and per-line errors (`ready`); nothing is written to measurements before the
    confirmation (docs/decisions/1213-imports-parsed-in-the-worker.md)."""

    class Status(models.TextChoices):
        PARSING = "parsing", "Reading the file"
        READY = "ready", "Ready to confirm"

    kpi = models.ForeignKey(Kpi, on_delete=models.CASCADE, related_name="uploads")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    filename = models.CharField(max_length=200, blank=True)
    rows = models.JSONField(default=list)  # [{"line", "period", "value"}] valid rows
    errors = models.JSONField(default=list)  # [{"line", "raw", "reason"}]
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.READY)
    raw = models.BinaryField(default=b"", blank=True)  # the upload until the worker has parsed it
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Upload {self.pk} for KPI {self.kpi_id}"
