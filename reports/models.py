"""Report subscriptions and their runs, notification preferences, outgoing webhooks.

Exactly-once mailing rests on two unique constraints: one ReportRun per (subscription, period)
and one ReportDelivery per (run, email); see docs/decisions/0800-report-exactly-once.md.
"""

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

SECTION_CHOICES = [
    ("roadmap", "Roadmap progress"),
    ("objectives", "Objectives and key results"),
    ("kpis", "KPI health"),
    ("releases", "Release status"),
    ("backlog", "Top of the backlog"),
    ("action_plans", "Action plans"),
    ("risks", "Risks above appetite"),
    ("launches", "Launch readiness"),
]
SECTION_KEYS = [key for key, _ in SECTION_CHOICES]


class ReportSubscription(models.Model):
    class Cadence(models.TextChoices):
        WEEKLY = "weekly", "Weekly"
        MONTHLY = "monthly", "Monthly"

    workspace = models.ForeignKey("pmhub.Workspace", on_delete=models.CASCADE, related_name="report_subscriptions")
    # Empty product: a report over every live product of the workspace.
    product = models.ForeignKey("roadmaps.Product", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="report_subscriptions")
    name = models.CharField(max_length=120)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    cadence = models.CharField(max_length=7, choices=Cadence.choices, default=Cadence.WEEKLY)
    weekday = models.PositiveSmallIntegerField(default=0, help_text="0 = Monday (weekly).")
    day_of_month = models.PositiveSmallIntegerField(default=1, help_text="1-28 (monthly).")
    hour = models.PositiveSmallIntegerField(default=8, help_text="Hour in the workspace's time zone.")
    sections = models.JSONField(default=list)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)  # optimistic locking: pmhub.utils.version_claim

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class ReportRecipient(models.Model):
    """A stakeholder: a workspace member (user set) or an outside e-mail address."""

    subscription = models.ForeignKey(ReportSubscription, on_delete=models.CASCADE, related_name="recipients")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")
    email = models.EmailField()
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["email"]
        constraints = [models.UniqueConstraint(fields=["subscription", "email"], name="report_recipient_unique")]

    def __str__(self):
        return self.email


class ReportRun(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    subscription = models.ForeignKey(ReportSubscription, on_delete=models.CASCADE, related_name="runs")
    period = models.CharField(max_length=40, help_text='"2026-W48", "2026-11" or "now-<timestamp>".')
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    # The report as built when the run was created: every retry mails the same content.
    data = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    triggered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # When the PDF's rendering was last queued (queue once; a lost message is queued again after
    # the PDF lease). The PDF itself is a ReportRunPdf row, so run lists never load its bytes.
    pdf_queued_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["subscription", "period"], name="report_run_unique_period")]

    def __str__(self):
        return f"{self.subscription_id} {self.period}"


class ReportRunPdf(models.Model):
    """The PDF of a run, rendered once by the worker (WeasyPrint) from the run's stored data, so a
    download answers stored bytes (decision 1420)."""

    run = models.OneToOneField(ReportRun, on_delete=models.CASCADE, primary_key=True, related_name="pdf")
    content = models.BinaryField(editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"PDF of run {self.run_id}"


class ReportDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    run = models.ForeignKey(ReportRun, on_delete=models.CASCADE, related_name="deliveries")
    recipient = models.ForeignKey(ReportRecipient, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="deliveries")
    email = models.EmailField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["email"]
        constraints = [models.UniqueConstraint(fields=["run", "email"], name="report_delivery_unique_recipient")]

    def __str__(self):
        return f"{self.email} ({self.status})"


class NotificationPreference(models.Model):
    """E-mail on/off per user and notification kind; no row means the default (on)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=30)
    email = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notification_pref_unique")]

    def __str__(self):
        return f"{self.user_id} {self.kind} email={self.email}"


class NotificationEmail(models.Model):
    """State row of the e-mail of one notification, so a redelivered task never mails twice."""

    notification = models.OneToOneField("pmhub.Notification", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=8, default="pending")
    sent_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"e-mail of notification {self.notification_id} ({self.status})"


def _webhook_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class WebhookEndpoint(models.Model):
    workspace = models.ForeignKey("pmhub.Workspace", on_delete=models.CASCADE, related_name="webhook_endpoints")
    # "webhook": PMHub's signed JSON to `url`. Another kind (a Slack or Teams channel of the
    # integrations app, pmhub.webhooks.webhook_kind_register) shapes its own request and keeps its
    # URL sealed in its own table: `url` stays empty, the outbox, retries and this log are shared.
    kind = models.CharField(max_length=16, default="webhook")
    url = models.URLField(max_length=500, blank=True)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list)
    # Kept in clear: the HMAC needs it. Shown once on creation; never in lists or the API afterwards.
    secret = models.CharField(max_length=80, default=_webhook_secret)
    active = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)  # optimistic locking: pmhub.utils.version_claim

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.url


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCESS = "success", "Delivered"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    uuid = models.UUIDField(default=uuid.uuid4, unique=True)
    event = models.CharField(max_length=40)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    # The row is the outbox: committed with the write that emitted it, then queued. When its next
    # attempt is due (now on creation, after the backoff when an attempt failed); a pending
    # delivery long past it was never queued or its message was lost, and the beat sweep queues it.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # Set by the worker that is POSTing it (a lease): a second message for the same delivery waits.
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_recent"),
            models.Index(fields=["next_attempt_at"], condition=models.Q(status="pending"), name="webhook_delivery_due"),
        ]

    def __str__(self):
        return f"{self.event} -> {self.endpoint_id} ({self.status})"
