"""GitHub App installations and the GitHub issue sync's credentials (docs/decisions/1721). Imported by
integrations.models.

GitHubApp            a GitHub App an admin recorded: app id, private key (PEM) and webhook secret, sealed.
GitHubInstallation   one installation of the App (an account's repositories); `installation` webhooks
                     add and remove it, `installation_repositories` its repositories.
GitHubAppDelivery    an App webhook delivery, remembered by X-GitHub-Delivery (processed once).
GitHubSyncAuth       a GitHub issue sync connection (JiraConnection kind "github", decision 1720) that
                     signs in as an App installation instead of with a fine-grained token.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class GitHubApp(models.Model):
    workspace = models.ForeignKey("pmhub.Workspace", on_delete=models.CASCADE, related_name="github_apps")
    name = models.CharField(max_length=120)
    app_id = models.PositiveBigIntegerField()
    # https://api.github.com, or a GitHub Enterprise Server's https://<host>/api/v3.
    api_url = models.CharField(max_length=300, default="https://api.github.com")
    private_key_sealed = models.TextField()
    webhook_secret_sealed = models.TextField()
    # The App's webhook URL: /integrations/github-app/<hook_token>/ (every delivery signed with the secret).
    hook_token = models.CharField(max_length=40, unique=True)
    # Repositories of new installations are connected to this product (pull requests link to its stories).
    product = models.ForeignKey("roadmaps.Product", on_delete=models.CASCADE, related_name="github_apps")
    merge_status = models.CharField(max_length=30, blank=True)
    last_delivery_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["workspace", "app_id"], name="github_app_once")]

    def __str__(self):
        return self.name


class GitHubInstallation(models.Model):
    app = models.ForeignKey(GitHubApp, on_delete=models.CASCADE, related_name="installations")
    installation_id = models.PositiveBigIntegerField()
    account_login = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["account_login", "id"]
        constraints = [models.UniqueConstraint(fields=["app", "installation_id"], name="github_installation_once")]

    def __str__(self):
        return self.account_login or str(self.installation_id)


class GitHubAppDelivery(models.Model):
    app = models.ForeignKey(GitHubApp, on_delete=models.CASCADE, related_name="deliveries")
    delivery_id = models.CharField(max_length=64)
    event = models.CharField(max_length=40)
    outcome = models.CharField(max_length=200, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["app", "delivery_id"], name="github_app_delivery_once")]

    def __str__(self):
        return f"{self.event} {self.delivery_id}"


class GitHubSyncAuth(models.Model):
    connection = models.OneToOneField(
        "integrations.JiraConnection", on_delete=models.CASCADE, related_name="github_auth"
    )
    installation = models.ForeignKey(GitHubInstallation, on_delete=models.CASCADE, related_name="sync_connections")

    def __str__(self):
        return f"{self.connection_id} as installation {self.installation_id}"
