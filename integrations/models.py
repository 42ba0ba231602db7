"""Integrations: Slack and Microsoft Teams channels (docs/decisions/1700-channels-share-the-webhook-outbox.md).

A Channel is the user-facing object (name, kind, product, sealed URL); its delivery state (events,
active, failures in a row) and its log live on the reports app's WebhookEndpoint/WebhookDelivery,
so webhooks and channels share one outbox, one retry policy and one delivery log.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Channel(models.Model):
    class Kind(models.TextChoices):
        SLACK = "slack", "Slack"
        TEAMS = "teams", "Microsoft Teams"

    workspace = models.ForeignKey("pmhub.Workspace", on_delete=models.CASCADE, related_name="channels")
    # Empty: every product of the workspace (and events that belong to no product).
    product = models.ForeignKey("roadmaps.Product", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="channels")
    endpoint = models.OneToOneField("reports.WebhookEndpoint", on_delete=models.PROTECT, related_name="channel")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    name = models.CharField(max_length=120)
    # The incoming-webhook URL is a credential (whoever has it can post): sealed with
    # pmhub.secretbox, never returned; `url_hint` is the masked form pages show.
    url_sealed = models.TextField()
    url_hint = models.CharField(max_length=120, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)  # optimistic locking: pmhub.utils.version_claim

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name
