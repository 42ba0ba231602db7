"""Writes of the GitHub side (docs/decisions/1720, 1721): GitHub App records and their installation
webhooks, and the GitHub issue sync (a connection of the one sync engine: integrations/jira/)."""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from pmhub.access import require_role
from pmhub.integrity import duplicate_as
from pmhub.models import Role
from pmhub.outbound import OutboundRefused, outbound_check_url
from pmhub.secretbox import seal, unseal
from pmhub.services import activity_record
from pmhub.utils import version_claim

from ..github import signature_valid
from ..jira import services as jira_services
from ..jira import sync
from ..jira.models import JiraConnection, JiraDelivery, JiraProjectLink
from ..models import GitHubDelivery, Repository
from .models import GitHubApp, GitHubAppDelivery, GitHubInstallation, GitHubSyncAuth

GITHUB = JiraConnection.Kind.GITHUB
REPO_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
DEFAULT_API = "https://api.github.com"
# GitHub issues have no story points and no epic link: those fields are left alone (set once, empty).
DEFAULT_RULES = {"points": {"direction": "once", "rule": "later"}, "epic": {"direction": "once", "rule": "later"}}
UPDATED_ACTIONS = {
    "opened",
    "edited",
    "closed",
    "reopened",
    "labeled",
    "unlabeled",
    "assigned",
    "unassigned",
    "milestoned",
    "demilestoned",
}
GONE_ACTIONS = {"deleted", "transferred"}


def clean_repo(value: str) -> tuple[str, str]:
    value = (value or "").strip().strip("/")
    if value.lower().startswith("https://github.com/"):
        value = value[len("https://github.com/") :].strip("/")
    if not REPO_NAME.match(value):
        return value, "Enter the repository as owner/name, for example acme/mobile-app."
    return value, ""


def clean_logins(logins) -> tuple[dict, str]:
    """The e-mail -> GitHub login map of a sync, or ({}, problem)."""
    if not isinstance(logins, dict) or len(logins) > 1000 or any(
            not isinstance(e, str) or "@" not in e or len(e) > 254 or not isinstance(x, str)
            or not re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})", x) for e, x in logins.items()):
        return {}, "Map e-mail addresses to GitHub logins, for example {\"pat@acme.com\": \"pat-pm\"}."
    return dict(logins), ""


def register() -> None:
    """At app start: the engine's client and project key for connections of kind github."""
    from .client import GitHubIssuesClient

    sync.CLIENTS[GITHUB] = GitHubIssuesClient.for_connection
    sync.PROJECT_KEYS[GITHUB] = clean_repo
    sync.USER_MAPS[GITHUB] = clean_logins


def one_repository(sender, instance, **kwargs) -> None:
    """pre_save of a link: a GitHub connection syncs one repository (its client reads the repository
    from its one link), so a second link is refused like any bad input."""
    if instance._state.adding and instance.connection.kind == GITHUB and \
            JiraProjectLink.objects.filter(connection_id=instance.connection_id).exists():
        raise ValidationError({"product": "A GitHub connection syncs one repository: add another connection "
                                          "for this product and repository."})


def link_defaults(sender, instance, created, **kwargs) -> None:
    """post_save of a link: a new GitHub link leaves story points and epic alone unless told."""
    if created and instance.connection.kind == GITHUB:
        rules = {**DEFAULT_RULES, **(instance.field_rules or {})}
        if rules != instance.field_rules:
            JiraProjectLink.objects.filter(id=instance.id).update(field_rules=rules)
            instance.field_rules = rules


def _clean_api_url(api_url: str) -> str:
    api_url = (api_url or DEFAULT_API).strip().rstrip("/")
    parts = urlsplit(api_url)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.query or parts.username:
        raise ValidationError(
            {
                "api_url": "Enter GitHub's API address, https://api.github.com (or your "
                "GitHub Enterprise Server's https://<host>/api/v3)."
            }
        )
    try:
        outbound_check_url(api_url)
    except OutboundRefused as exc:
        raise ValidationError({"api_url": f"PMHub may not connect to this address: {exc.reason}."}) from None
    if parts.scheme == "http":
        from django.conf import settings

        allowed = {h.strip().lower() for h in getattr(settings, "OUTBOUND_ALLOWED_HOSTS", []) or []}
        if parts.hostname.lower() not in allowed:
            raise ValidationError({"api_url": "Use https:// (plain http only for hosts the operator allowed)."})
    return api_url


# --- the GitHub issue sync -----------------------------------------------------------------------
@transaction.atomic
def issue_sync_create(
    *,
    user,
    workspace,
    product,
    repository: str,
    token: str = "",
    installation=None,
    api_url: str = DEFAULT_API,
    field_rules: dict | None = None,
    on_delete: str = JiraProjectLink.OnDelete.UNLINK,
    logins: dict | None = None,
) -> tuple[JiraConnection, JiraProjectLink, str]:
    """Sync a repository's issues with a product, two ways (workspace admins): a connection of kind
    github (a fine-grained token, or an App installation of this workspace) and its one link.
    Returns (connection, link, webhook secret shown this once)."""
    require_role(user=user, workspace_id=workspace.id, role=Role.ADMIN)
    errors = {}
    full_name, problem = clean_repo(repository)
    if problem:
        errors["repository"] = problem
    token = (token or "").strip()
    if installation is not None and installation.app.workspace_id != workspace.id:
        errors["installation"] = "Choose an installation of this workspace's GitHub App."
    if not token and installation is None:
        errors["token"] = "Paste a fine-grained token with Issues read and write, or choose an App installation."
    if len(token) > 2000:
        errors["token"] = "This token is too long."
    logins, problem = clean_logins(logins or {})
    if problem:
        errors["logins"] = problem
    if errors:
        raise ValidationError(errors)
    api_url = installation.app.api_url if installation is not None else _clean_api_url(api_url)
    secret = secrets.token_urlsafe(32)
    connection = JiraConnection.objects.create(
        workspace=workspace,
        created_by=user,
        kind=GITHUB,
        name=f"GitHub {full_name}"[:120],
        base_url=api_url,
        token_sealed=seal(token) if token else "",
        hook_token=secrets.token_urlsafe(24),
        secret_sealed=seal(secret),
    )
    if installation is not None:
        GitHubSyncAuth.objects.create(connection=connection, installation=installation)
    link = jira_services.link_create(
        user=user,
        connection=connection,
        product=product,
        project_key=full_name,
        story_issue_type="Issue",
        epic_issue_type="Epic",
        field_rules={**DEFAULT_RULES, **(field_rules or {})},
        on_delete=on_delete,
    )
    activity_record(
        workspace_id=workspace.id,
        actor=user,
        verb="synced GitHub issues",
        target=product,
        data={"repository": full_name},
    )
    jira_services._queue(jira_services._task("jira_connection_test"), connection.id)
    return connection, link, secret


def issues_delivery_receive(
    *, hook_token: str, event: str, delivery_id: str, signature: str | None, body: bytes
) -> str:
    """A repository webhook of a GitHub issue sync: verified by X-Hub-Signature-256 with the
    connection's secret, remembered by X-GitHub-Delivery (a replay changes nothing), queued."""
    from ..services import WebhookRefused, webhook_json_object

    connection = JiraConnection.objects.filter(hook_token=hook_token, kind=GITHUB).first()
    if connection is None:
        raise WebhookRefused(404, "unknown webhook URL")
    if not signature_valid(secret=unseal(connection.secret_sealed), body=body, header=signature):
        raise WebhookRefused(401, "signature does not match")
    delivery_id = (delivery_id or "").strip()[:64]
    if not delivery_id:
        raise WebhookRefused(400, "missing X-GitHub-Delivery")
    return _issue_delivery(connection, event=event, delivery_id=delivery_id, payload=webhook_json_object(body))


def _issue_delivery(connection, *, event: str, delivery_id: str, payload: dict) -> str:
    if event == "ping":
        return "ping: connected"
    if event != "issues":
        return f"ignored: {(event or 'no')[:40]} event"
    issue = payload.get("issue") if isinstance(payload.get("issue"), dict) else {}
    number = str(issue.get("number") or "")
    action = str(payload.get("action") or "")
    repo = str((payload.get("repository") or {}).get("full_name") or "")[:140]
    if not number.isdigit() or issue.get("pull_request"):
        return "ignored: no issue"
    if action not in UPDATED_ACTIONS | GONE_ACTIONS:
        return f"ignored: issues.{action[:30]}"
    link = JiraProjectLink.objects.filter(connection=connection, project_key__iexact=repo).first()
    if link is None:
        return f"ignored: delivery for {repo[:100] or 'no repository'}"
    with transaction.atomic():
        delivery, created = JiraDelivery.objects.get_or_create(
            connection=connection,
            delivery_id=delivery_id,
            defaults={
                "event": "github:issue_deleted" if action in GONE_ACTIONS else "github:issue_updated",
                "issue_id": number[:20],
                "project_key": link.project_key,
            },
        )
        if not created:
            return "already processed"
        jira_services._queue(jira_services._task("jira_delivery_process"), delivery.id)
    return "queued"


# --- GitHub Apps -----------------------------------------------------------------------------------
def _clean_app(
    *,
    workspace,
    name: str,
    app_id,
    private_key: str | None,
    webhook_secret: str | None,
    product,
    merge_status: str,
    api_url: str,
    current=None,
) -> dict:
    from backlog.services import workflow_of

    errors, cleaned = {}, {}
    name = (name or "").strip()
    if not name or len(name) > 120:
        errors["name"] = "Give the App a name (for example: PMHub for Acme)."
    try:
        cleaned["app_id"] = int(str(app_id).strip())
        if not 0 < cleaned["app_id"] < 10**12:
            raise ValueError
    except (TypeError, ValueError):
        errors["app_id"] = "Enter the App ID from the App's settings page (a number)."
    if product is None or product.workspace_id != workspace.id:
        errors["product"] = "Choose a product of this workspace."
    merge_status = (merge_status or "").strip()
    if product is not None and merge_status and merge_status not in {s["key"] for s in workflow_of(product)}:
        errors["merge_status"] = "Choose a status of this product's workflow, or none."
    if private_key is not None or current is None:
        key = (private_key or "").strip()
        try:
            from joserfc.jwk import RSAKey

            RSAKey.import_key(key)
            cleaned["private_key_sealed"] = seal(key)
        except Exception:  # joserfc raises several kinds for a bad PEM
            errors["private_key"] = "Paste the App's private key: the whole .pem file GitHub gave."
    if webhook_secret is not None or current is None:
        secret = (webhook_secret or "").strip()
        if len(secret) < 16 or len(secret) > 200:
            errors["webhook_secret"] = "Enter the App's webhook secret (16 to 200 characters)."
        cleaned["webhook_secret_sealed"] = seal(secret)
    try:
        cleaned["api_url"] = _clean_api_url(api_url)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return {**cleaned, "name": name, "product": product, "merge_status": merge_status}


@transaction.atomic
def app_create(
    *,
    user,
    workspace,
    name: str,
    app_id,
    private_key: str,
    webhook_secret: str,
    product,
    merge_status: str = "",
    api_url: str = DEFAULT_API,
) -> GitHubApp:
    """Record a GitHub App (workspace admins): its key and secret are sealed and never shown again.
    Its installations' repositories are connected to `product` as GitHub's webhooks announce them."""
    require_role(user=user, workspace_id=workspace.id, role=Role.ADMIN)
    fields = _clean_app(
        workspace=workspace,
        name=name,
        app_id=app_id,
        private_key=private_key,
        webhook_secret=webhook_secret,
        product=product,
        merge_status=merge_status,
        api_url=api_url,
    )
    with duplicate_as({"app_id": "This App is already recorded in this workspace."}):
        app = GitHubApp.objects.create(
            workspace=workspace, created_by=user, hook_token=secrets.token_urlsafe(24), **fields
        )
    activity_record(
        workspace_id=workspace.id,
        actor=user,
        verb="recorded GitHub App",
        target=app,
        data={"name": app.name, "app_id": app.app_id},
    )
    return app


@transaction.atomic
def app_update(*, user, app: GitHubApp, data: dict, version: int | None = None) -> GitHubApp:
    """Rename, another product or merge status, a new private key or secret (only when given)."""
    require_role(user=user, workspace_id=app.workspace_id, role=Role.ADMIN)
    version_claim(instance=app, expected_version=version)
    fields = _clean_app(
        workspace=app.workspace,
        name=data.get("name", app.name),
        app_id=app.app_id,
        private_key=(data.get("private_key") or "").strip() or None,
        webhook_secret=(data.get("webhook_secret") or "").strip() or None,
        product=data.get("product", app.product),
        merge_status=data.get("merge_status", app.merge_status),
        api_url=data.get("api_url", app.api_url),
        current=app,
    )
    fields.pop("app_id")
    for key, value in fields.items():
        setattr(app, key, value)
    app.save(update_fields=list(fields))
    if "private_key_sealed" in fields:
        from .auth import installation_token_forget

        for installation in app.installations.all():
            installation_token_forget(installation)
    activity_record(
        workspace_id=app.workspace_id, actor=user, verb="updated GitHub App", target=app, data={"name": app.name}
    )
    app.refresh_from_db(fields=["version"])
    return app


@transaction.atomic
def app_delete(*, user, app: GitHubApp) -> None:
    """Forget the App: its installations, their repositories and issue syncs go; stories stay."""
    require_role(user=user, workspace_id=app.workspace_id, role=Role.ADMIN)
    activity_record(workspace_id=app.workspace_id, actor=user, verb="deleted GitHub App", data={"name": app.name})
    JiraConnection.objects.filter(github_auth__installation__app=app).delete()
    app.delete()


def _repositories_add(app, installation, repos: list) -> int:
    added = 0
    for repo in repos[:1000]:
        full_name, problem = clean_repo(str((repo or {}).get("full_name") or ""))
        if problem:
            continue
        current = Repository.objects.filter(product=app.product, full_name__iexact=full_name).first()
        if current is not None:
            if current.installation_id != installation.id:
                Repository.objects.filter(id=current.id).update(installation=installation)
            continue
        Repository.objects.create(
            workspace_id=app.workspace_id,
            product=app.product,
            full_name=full_name,
            installation=installation,
            hook_token=secrets.token_urlsafe(24),
            secret_sealed=app.webhook_secret_sealed,
            merge_status=app.merge_status,
            created_by=app.created_by,
        )
        added += 1
    return added


def _repositories_remove(installation, repos: list) -> int:
    names = [str((r or {}).get("full_name") or "") for r in repos[:1000]]
    removed, _ = Repository.objects.filter(installation=installation, full_name__in=names).delete()
    return removed


def _installation(app, payload: dict, action: str) -> str:
    data = payload.get("installation") if isinstance(payload.get("installation"), dict) else {}
    installation_id = data.get("id")
    if not isinstance(installation_id, int) or installation_id <= 0:
        return "ignored: no installation"
    login = str((data.get("account") or {}).get("login") or "")[:100]
    if action == "deleted":
        found = GitHubInstallation.objects.filter(app=app, installation_id=installation_id).first()
        if found is None:
            return "installation was not known"
        from .auth import installation_token_forget

        installation_token_forget(found)
        JiraConnection.objects.filter(github_auth__installation=found).delete()
        found.delete()  # its repositories go with it (CASCADE)
        return f"installation {installation_id} removed"
    installation, _ = GitHubInstallation.objects.get_or_create(
        app=app, installation_id=installation_id, defaults={"account_login": login}
    )
    added = _repositories_add(app, installation, payload.get("repositories") or [])
    return f"installation {installation_id} ({login}) added: {added} repositories"


def app_delivery_receive(*, hook_token: str, event: str, delivery_id: str, signature: str | None, body: bytes) -> str:
    """An App webhook: verified with the App's secret, processed once per X-GitHub-Delivery, in one
    transaction with its log row. installation / installation_repositories register or remove
    repositories; pull_request, push and check_suite link pull requests as a repository webhook
    does; issues go to the issue syncs signed in as that installation."""
    from .. import services as integration_services
    from ..services import WebhookRefused, webhook_json_object

    app = GitHubApp.objects.select_related("product").filter(hook_token=hook_token).first()
    if app is None:
        raise WebhookRefused(404, "unknown webhook URL")
    if not signature_valid(secret=unseal(app.webhook_secret_sealed), body=body, header=signature):
        raise WebhookRefused(401, "signature does not match")
    delivery_id = (delivery_id or "").strip()[:64]
    if not delivery_id:
        raise WebhookRefused(400, "missing X-GitHub-Delivery")
    payload = webhook_json_object(body)
    event = (event or "").strip()[:40]
    action = str(payload.get("action") or "")
    installation_id = (
        (payload.get("installation") or {}).get("id") if isinstance(payload.get("installation"), dict) else None
    )
    with transaction.atomic():
        _, created = GitHubAppDelivery.objects.get_or_create(
            app=app, delivery_id=delivery_id, defaults={"event": event}
        )
        if not created:
            return "already processed"
        installation = (
            GitHubInstallation.objects.filter(app=app, installation_id=installation_id).first()
            if isinstance(installation_id, int)
            else None
        )
        if event == "installation" and action in ("created", "deleted"):
            outcome = _installation(app, payload, action)
        elif event == "installation_repositories" and installation is not None:
            added = _repositories_add(app, installation, payload.get("repositories_added") or [])
            removed = _repositories_remove(installation, payload.get("repositories_removed") or [])
            outcome = f"repositories: {added} added, {removed} removed"
        elif event == "ping":
            outcome = "ping: connected"
        elif installation is None:
            outcome = f"ignored: {event or 'no'} event of an unknown installation"
        elif event in ("pull_request", "push", "check_suite"):
            name = str((payload.get("repository") or {}).get("full_name") or "")
            repository = (
                Repository.objects.select_related("product", "created_by")
                .filter(installation=installation, full_name__iexact=name)
                .first()
            )
            if repository is None:
                outcome = f"ignored: {name[:100] or 'no repository'} is not connected"
            else:
                handler = {
                    "pull_request": integration_services._pull_request,
                    "push": integration_services._push,
                    "check_suite": integration_services._check_suite,
                }[event]
                outcome = handler(repository, payload)
                GitHubDelivery.objects.get_or_create(
                    repository=repository, delivery_id=delivery_id, defaults={"event": event, "outcome": outcome[:200]}
                )
                Repository.objects.filter(id=repository.id).update(last_delivery_at=timezone.now())
        elif event == "issues":
            outcomes = [
                _issue_delivery(c, event=event, delivery_id=delivery_id, payload=payload)
                for c in JiraConnection.objects.filter(github_auth__installation=installation)
            ]
            outcome = "; ".join(outcomes) or "ignored: no issue sync for this installation"
        else:
            outcome = f"ignored: {event or 'no'} event"
        GitHubAppDelivery.objects.filter(app=app, delivery_id=delivery_id).update(outcome=outcome[:200])
        GitHubApp.objects.filter(id=app.id).update(last_delivery_at=timezone.now())
    return outcome
