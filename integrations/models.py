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


class Repository(models.Model):
    """A GitHub repository connected to a product: its pull requests that name a story's key link to
    it (docs/decisions/1703-github-pull-requests.md)."""

    workspace = models.ForeignKey("pmhub.Workspace", on_delete=models.CASCADE, related_name="repositories")
    product = models.ForeignKey("roadmaps.Product", on_delete=models.CASCADE, related_name="repositories")
    full_name = models.CharField(max_length=140, help_text="owner/name, as GitHub spells it.")
    # Where GitHub sends this repository's webhooks: /integrations/github/<hook_token>/ (random, not secret:
    # every delivery must carry a valid X-Hub-Signature-256 made with the sealed secret).
    hook_token = models.CharField(max_length=40, unique=True)
    secret_sealed = models.TextField()
    # Optional fine-grained token for later API use (reading checks); sealed, never shown.
    token_sealed = models.TextField(blank=True)
    # Connected by a GitHub App installation (its `installation_repositories` webhooks add and remove
    # the repository; its deliveries come to the App's URL, signed with the App's secret); empty:
    # connected by hand with its own webhook secret.
    installation = models.ForeignKey("integrations.GitHubInstallation", null=True, blank=True,
                                     on_delete=models.CASCADE, related_name="repositories")
    # Workflow status (of the product) a story moves to when a linked pull request is merged; empty: none.
    merge_status = models.CharField(max_length=30, blank=True)
    last_delivery_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["full_name", "id"]
        constraints = [models.UniqueConstraint(fields=["product", "full_name"], name="integrations_repo_unique")]

    def __str__(self):
        return self.full_name


class GitHubDelivery(models.Model):
    """One inbound webhook delivery, remembered by GitHub's X-GitHub-Delivery id so that a redelivery
    or a replay is processed once; the row is also the connection's inbound log."""

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="deliveries")
    delivery_id = models.CharField(max_length=64)
    event = models.CharField(max_length=40)
    outcome = models.CharField(max_length=200, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["repository", "delivery_id"], name="github_delivery_once")]

    def __str__(self):
        return f"{self.event} {self.delivery_id}"


class BranchReference(models.Model):
    """A story key seen in a commit message pushed to a branch: a pull request from that branch links
    to the story even when its title and branch name do not name it."""

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="branch_references")
    branch = models.CharField(max_length=255)
    story = models.ForeignKey("backlog.Story", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["repository", "branch", "story"], name="github_branch_ref_once")]

    def __str__(self):
        return f"{self.branch} -> {self.story_id}"


class PullRequestLink(models.Model):
    class State(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"
        MERGED = "merged", "Merged"

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="pull_requests")
    story = models.ForeignKey("backlog.Story", on_delete=models.CASCADE, related_name="pull_requests")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=300)
    # A link people follow (https://github.com/... from the payload, checked), never fetched by the
    # server: a plain CharField, outside the outbound policy's URL fields.
    url = models.CharField(max_length=500)
    branch = models.CharField(max_length=255, blank=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.OPEN)
    draft = models.BooleanField(default=False)
    # The last check suite's result for the pull request's head (GitHub's conclusion, e.g. "success",
    # "failure"; "pending" while it runs); empty until a check_suite delivery names the pull request.
    checks = models.CharField(max_length=20, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["repository", "number", "story"], name="github_pr_link_once")]

    def __str__(self):
        return f"{self.repository} #{self.number}"


# Jira (docs/decisions/1710-1716): its own module, registered with this app.
# GitHub App installations and the GitHub issue sync (docs/decisions/1720, 1721).
from .github_sync.models import (  # noqa: E402,F401
    GitHubApp,
    GitHubAppDelivery,
    GitHubInstallation,
    GitHubSyncAuth,
)
from .jira.models import (  # noqa: E402,F401
    JiraConnection,
    JiraDelivery,
    JiraIssueMap,
    JiraOutbox,
    JiraProjectLink,
    JiraSyncLog,
)
