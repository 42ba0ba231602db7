"""Writes of the integrations app: Slack and Microsoft Teams channels and their messages.

A channel's URL is sealed (pmhub.secretbox) and never leaves the server. Its deliveries are rows of
the shared webhook outbox (reports.WebhookDelivery on the channel's own WebhookEndpoint of kind
"slack"/"teams"): sent by the same worker task with the same backoff, Retry-After honoured, the
same sweep, the same auto-disable and the same delivery log. See docs/decisions/1700-1702.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from functools import partial
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from pmhub.access import require_role
from pmhub.integrity import duplicate_as
from pmhub.models import Role, Workspace
from pmhub.outbound import OutboundRefused, outbound_check_url
from pmhub.secretbox import mask_url, seal, unseal
from pmhub.services import activity_record
from pmhub.subscribers import subscribers_cached
from pmhub.utils import version_claim
from pmhub.webhooks import webhook_event_names
from reports.models import WebhookDelivery, WebhookEndpoint

from . import messages
from .github import signature_valid, story_ids_in
from .models import BranchReference, Channel, GitHubDelivery, PullRequestLink, Repository
from .summaries import summary_for

logger = logging.getLogger(__name__)

TEST_EVENT = "channel.test"
# Where each kind's incoming webhooks live. Other hosts are refused unless allowed for tests or an
# on-premises gateway (CHANNEL_ALLOWED_HOSTS is not needed: OUTBOUND_ALLOWED_HOSTS covers internal
# hosts; public hosts outside these suffixes are refused so a typo cannot post a channel's traffic
# to an arbitrary site).
HOST_SUFFIXES = {
    Channel.Kind.SLACK: ("hooks.slack.com",),
    # Teams incoming webhooks (webhook.office.com) and Power Automate / Workflows URLs.
    Channel.Kind.TEAMS: ("webhook.office.com", "logic.azure.com", "powerplatform.com"),
}


def _operator_allowed(host: str) -> bool:
    """An internal host the operator named in OUTBOUND_ALLOWED_HOSTS (a gateway; the tests' receiver)."""
    from django.conf import settings

    allowed = {h.strip().lower() for h in getattr(settings, "OUTBOUND_ALLOWED_HOSTS", []) or []}
    return host.lower().rstrip(".") in allowed


def _host_allowed(kind: str, host: str) -> bool:
    host = host.lower().rstrip(".")
    return _operator_allowed(host) or any(host == s or host.endswith("." + s) for s in HOST_SUFFIXES.get(kind, ()))


def _clean(*, workspace, kind: str, name: str, url: str | None, events: list[str], product) -> dict:
    errors: dict[str, str] = {}
    if kind not in Channel.Kind.values:
        errors["kind"] = "Choose Slack or Microsoft Teams."
    name = (name or "").strip()
    if not name:
        errors["name"] = "Give the channel a name people recognise (for example #product-updates)."
    cleaned = {"name": name[:120]}
    if url is not None:
        url = url.strip()
        parts = urlsplit(url)
        if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname
                                             and _operator_allowed(parts.hostname)):
            errors["url"] = "Enter the https:// incoming-webhook URL that Slack or Teams gave you."
        elif not parts.hostname or not _host_allowed(kind, parts.hostname):
            errors["url"] = ("This is not a Slack incoming-webhook URL (https://hooks.slack.com/...)."
                             if kind == Channel.Kind.SLACK else
                             "This is not a Teams incoming-webhook or Workflows URL.")
        elif len(url) > 1000:
            errors["url"] = "This URL is too long."
        else:
            try:
                outbound_check_url(url)
            except OutboundRefused as exc:
                errors["url"] = f"This URL cannot receive messages: {exc.reason}."
        cleaned.update(url_sealed=seal(url), url_hint=mask_url(url)[:120])
    events = list(dict.fromkeys(events or []))
    allowed = webhook_event_names()
    if not events or any(e not in allowed for e in events):
        errors["events"] = "Choose at least one event to post."
    if product is not None and product.workspace_id != workspace.id:
        errors["product"] = "Choose a product of this workspace."
    if errors:
        raise ValidationError(errors)
    cleaned["events"] = events
    return cleaned


@transaction.atomic
def channel_create(*, user, workspace: Workspace, kind: str, name: str, url: str, events: list[str],
                   product=None) -> Channel:
    """Add a Slack or Teams channel (workspace admins). The URL is sealed at once and never shown again."""
    require_role(user=user, workspace_id=workspace.id, role=Role.ADMIN)
    fields = _clean(workspace=workspace, kind=kind, name=name, url=url, events=events, product=product)
    endpoint = WebhookEndpoint.objects.create(workspace=workspace, kind=kind, url="", events=fields.pop("events"),
                                              description=fields["name"], created_by=user)
    channel = Channel.objects.create(workspace=workspace, product=product, endpoint=endpoint, kind=kind,
                                     created_by=user, **fields)
    activity_record(workspace_id=workspace.id, actor=user, verb=f"added {channel.get_kind_display()} channel",
                    target=channel, data={"name": channel.name})
    return channel


@transaction.atomic
def channel_update(*, user, channel: Channel, data: dict, version: int | None = None) -> Channel:
    """Change name, events, product, URL (only when a new one is given) or pause/resume (`active`)."""
    require_role(user=user, workspace_id=channel.workspace_id, role=Role.ADMIN)
    version_claim(instance=channel, expected_version=version)
    endpoint = channel.endpoint
    product = data.get("product", channel.product)
    fields = _clean(workspace=channel.workspace, kind=channel.kind, name=data.get("name", channel.name),
                    url=data.get("url") or None, events=data.get("events", endpoint.events), product=product)
    endpoint.events = fields.pop("events")
    for key, value in fields.items():
        setattr(channel, key, value)
    channel.product = product
    endpoint.description = channel.name
    if "active" in data:
        endpoint.active = bool(data["active"])
        if endpoint.active:  # resuming gives the channel a fresh start, as for webhooks
            endpoint.consecutive_failures, endpoint.disabled_at = 0, None
    endpoint.save(update_fields=["events", "description", "active", "consecutive_failures", "disabled_at"])
    channel.save(update_fields=["name", "product", "url_sealed", "url_hint"])
    activity_record(workspace_id=channel.workspace_id, actor=user, verb=f"updated {channel.get_kind_display()} channel",
                    target=channel, data={"name": channel.name})
    channel.refresh_from_db(fields=["version"])
    return channel


@transaction.atomic
def channel_delete(*, user, channel: Channel) -> None:
    """Remove the channel, its sealed URL and its delivery log."""
    require_role(user=user, workspace_id=channel.workspace_id, role=Role.ADMIN)
    activity_record(workspace_id=channel.workspace_id, actor=user, verb=f"deleted {channel.get_kind_display()} channel",
                    data={"name": channel.name})
    endpoint = channel.endpoint
    channel.delete()
    endpoint.delete()


def _summaries(*, workspace, event: str, payloads: list[dict]) -> list[dict]:
    bodies = json.loads(json.dumps(payloads, cls=DjangoJSONEncoder))
    return [summary_for(workspace=workspace, event=event, payload=body) for body in bodies]


def channel_events_selected(workspace_id: int) -> frozenset[str]:
    """The events some active channel of the workspace subscribed to (cached by the caller)."""
    rows = Channel.objects.filter(workspace_id=workspace_id, endpoint__active=True)
    return frozenset(e for events in rows.values_list("endpoint__events", flat=True) for e in (events or []))


def channel_deliveries_create(*, workspace_id: int, event: str, payloads: list[dict]) -> list[WebhookDelivery]:
    """Inside the emitting transaction: one delivery per payload for each active channel of the
    workspace that subscribed to `event` and whose product is the event's (or none: every product).
    The stored payload is the message's summary, so every retry posts the same message."""
    if event not in subscribers_cached("channels", workspace_id, channel_events_selected):
        return []  # no channel subscribed to it: no query (pmhub/subscribers.py)
    channels = [c for c in Channel.objects.filter(workspace_id=workspace_id, endpoint__active=True)
                .select_related("endpoint", "workspace") if event in (c.endpoint.events or [])]
    if not channels:
        return []
    summaries = _summaries(workspace=channels[0].workspace, event=event, payloads=payloads)
    rows = [WebhookDelivery(endpoint=c.endpoint, event=event, payload=s) for s in summaries for c in channels
            if c.product_id is None or s.get("product_id") == c.product_id]
    deliveries = WebhookDelivery.objects.bulk_create(rows, batch_size=1000)
    transaction.on_commit(partial(_enqueue, [d.id for d in deliveries]))
    return deliveries


def _enqueue(delivery_ids: list[int]) -> None:
    """Queue after commit; a broker that is down leaves them pending for the reports sweep."""
    from pmhub.celery import queue_or_leave
    from reports.tasks import webhook_deliver

    for queued, delivery_id in enumerate(delivery_ids):
        if not queue_or_leave(webhook_deliver, delivery_id):
            logger.warning("%d channel deliveries not queued; the sweep will queue them", len(delivery_ids) - queued)
            return


@transaction.atomic
def channel_test_send(*, user, channel: Channel) -> WebhookDelivery:
    """"Send test message": one delivery through the same outbox and log as real events."""
    require_role(user=user, workspace_id=channel.workspace_id, role=Role.ADMIN)
    from django.conf import settings

    if not channel.endpoint.active:  # the worker skips a paused channel's deliveries
        raise ValidationError({"active": "The channel is paused: resume it to send a test message."})

    summary = {"headline": "Test message", "title": f"PMHub can post to {channel.name}",
               "facts": [["Sent by", user.display_name if hasattr(user, "display_name") else str(user)]],
               "context": channel.workspace.name, "product_id": channel.product_id,
               "url": settings.SITE_URL + channel_page_path(channel.endpoint)}
    delivery = WebhookDelivery.objects.create(endpoint=channel.endpoint, event=TEST_EVENT, payload=summary)
    activity_record(workspace_id=channel.workspace_id, actor=user, verb="sent a test message", target=channel)
    transaction.on_commit(partial(_enqueue, [delivery.id]))
    return delivery


def channel_request_build(delivery: WebhookDelivery) -> tuple[str, bytes, dict]:
    """For the shared delivery task (pmhub.webhooks kind registry): unseal the URL and shape the body."""
    channel = Channel.objects.get(endpoint_id=delivery.endpoint_id)
    url = unseal(channel.url_sealed)
    body = messages.slack_message(delivery.payload) if channel.kind == Channel.Kind.SLACK \
        else messages.teams_message(delivery.payload)
    return url, json.dumps(body, separators=(",", ":")).encode(), {
        "Content-Type": "application/json; charset=utf-8", "User-Agent": "PMHub-Channels/1"}


def channel_page_path(endpoint) -> str:
    channel = Channel.objects.select_related("workspace").get(endpoint_id=endpoint.id)
    return reverse("integrations:channel", kwargs={"ws": channel.workspace.slug, "channel_id": channel.id})


# --- GitHub repositories and their inbound webhooks ----------------------------------------------------
_REPO_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")


class WebhookRefused(Exception):
    """An inbound delivery that is not processed: `status` is the HTTP answer, `reason` a short text."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


def webhook_json_object(body: bytes) -> dict:
    """An inbound webhook's body as a JSON object (bounded depth and size), or WebhookRefused(400)."""
    from pmhub.jsonsafe import loads_bounded

    try:
        payload = loads_bounded(body)
    except ValueError:
        raise WebhookRefused(400, "body is not JSON") from None
    if not isinstance(payload, dict):
        raise WebhookRefused(400, "body is not a JSON object")
    return payload


def _clean_repository(*, product, full_name: str, merge_status: str) -> dict:
    from backlog.services import workflow_of

    errors = {}
    full_name = (full_name or "").strip().strip("/")
    if full_name.lower().startswith("https://github.com/"):
        full_name = full_name[len("https://github.com/"):].strip("/")
    if not _REPO_NAME.match(full_name):
        errors["full_name"] = "Enter the repository as owner/name, for example acme/mobile-app."
    merge_status = (merge_status or "").strip()
    if merge_status and merge_status not in {s["key"] for s in workflow_of(product)}:
        errors["merge_status"] = "Choose a status of this product's workflow, or none."
    if errors:
        raise ValidationError(errors)
    return {"full_name": full_name, "merge_status": merge_status}


@transaction.atomic
def repository_connect(*, user, product, full_name: str, merge_status: str = "", token: str = "") -> tuple:
    """Connect a GitHub repository to a product (workspace admins). Returns (repository, secret): the
    webhook secret is generated here, sealed, and returned this once to be pasted into GitHub."""
    require_role(user=user, workspace_id=product.workspace_id, role=Role.ADMIN)
    fields = _clean_repository(product=product, full_name=full_name, merge_status=merge_status)
    if Repository.objects.filter(product=product, full_name__iexact=fields["full_name"]).exists():
        raise ValidationError({"full_name": "This repository is already connected to this product."})
    secret = secrets.token_urlsafe(32)
    with duplicate_as({"full_name": "This repository is already connected to this product."}):  # a double click
        repository = Repository.objects.create(
            workspace_id=product.workspace_id, product=product, created_by=user,
            hook_token=secrets.token_urlsafe(24), secret_sealed=seal(secret),
            token_sealed=seal(token.strip()) if (token or "").strip() else "", **fields)
    activity_record(workspace_id=product.workspace_id, actor=user, verb="connected GitHub repository",
                    target=repository, data={"repository": repository.full_name})
    return repository, secret


@transaction.atomic
def repository_update(*, user, repository, data: dict, version: int | None = None):
    """Change the status a merge moves stories to, or the optional token (a new one replaces it)."""
    require_role(user=user, workspace_id=repository.workspace_id, role=Role.ADMIN)
    version_claim(instance=repository, expected_version=version)
    fields = _clean_repository(product=repository.product, full_name=repository.full_name,
                               merge_status=data.get("merge_status", repository.merge_status))
    repository.merge_status = fields["merge_status"]
    if (data.get("token") or "").strip():
        repository.token_sealed = seal(data["token"].strip())
    repository.save(update_fields=["merge_status", "token_sealed"])
    activity_record(workspace_id=repository.workspace_id, actor=user, verb="updated GitHub repository",
                    target=repository, data={"repository": repository.full_name})
    repository.refresh_from_db(fields=["version"])
    return repository


@transaction.atomic
def repository_disconnect(*, user, repository) -> None:
    require_role(user=user, workspace_id=repository.workspace_id, role=Role.ADMIN)
    activity_record(workspace_id=repository.workspace_id, actor=user, verb="disconnected GitHub repository",
                    data={"repository": repository.full_name})
    repository.delete()


def _stories_named(repository, ids: list[int]) -> list:
    from backlog.models import Story

    if not ids:
        return []
    # Only stories of the repository's product: a key of another product or workspace links nothing.
    return list(Story.objects.filter(id__in=ids, product_id=repository.product_id))


def _pull_request(repository, payload: dict) -> str:
    from backlog.services import story_status_set

    pr = payload.get("pull_request") or {}
    number, title = int(pr.get("number") or 0), str(pr.get("title") or "")[:300]
    branch = str((pr.get("head") or {}).get("ref") or "")[:255]
    if not number:
        return "ignored: no pull request number"
    state = (PullRequestLink.State.MERGED if pr.get("merged") else
             PullRequestLink.State.CLOSED if pr.get("state") == "closed" else PullRequestLink.State.OPEN)
    ids = story_ids_in(branch, title)
    ids += [i for i in BranchReference.objects.filter(repository=repository, branch=branch)
            .values_list("story_id", flat=True) if i not in ids]
    stories = _stories_named(repository, ids)
    url = str(pr.get("html_url") or "")[:500]
    if not url.startswith("https://"):
        url = f"https://github.com/{repository.full_name}/pull/{number}"
    for story in stories:
        link, created = PullRequestLink.objects.get_or_create(
            repository=repository, number=number, story=story,
            defaults={"title": title, "url": url, "branch": branch, "state": state, "draft": bool(pr.get("draft"))})
        was_merged = not created and link.state == PullRequestLink.State.MERGED
        if not created:
            PullRequestLink.objects.filter(id=link.id).update(title=title, url=url, branch=branch, state=state,
                                                              draft=bool(pr.get("draft")), updated_at=timezone.now())
        if created:
            activity_record(workspace_id=repository.workspace_id, actor=None, verb="GitHub linked pull request",
                            target=story, data={"repository": repository.full_name, "pull_request": number})
        if state == PullRequestLink.State.MERGED and not was_merged and repository.merge_status \
                and story.status != repository.merge_status and repository.created_by is not None:
            # The one status service; the admin who connected the repository stands behind the change,
            # and the activity log says it was GitHub.
            story_status_set(actor=repository.created_by, story=story, status=repository.merge_status)
            activity_record(workspace_id=repository.workspace_id, actor=None,
                            verb="GitHub moved story: pull request merged", target=story,
                            data={"repository": repository.full_name, "pull_request": number,
                                  "status": repository.merge_status})
    return f"pull request #{number} {state}: {len(stories)} stor{'y' if len(stories) == 1 else 'ies'} linked"


def _push(repository, payload: dict) -> str:
    ref = str(payload.get("ref") or "")
    if not ref.startswith("refs/heads/"):
        return "ignored: not a branch"
    branch = ref[len("refs/heads/"):][:255]
    messages_ = [str(c.get("message") or "") for c in (payload.get("commits") or [])[:2048] if isinstance(c, dict)]
    stories = _stories_named(repository, story_ids_in(branch, *messages_))
    for story in stories:
        BranchReference.objects.get_or_create(repository=repository, branch=branch, story=story)
    # A pull request already open from this branch links to the newly named stories too.
    for pr in (PullRequestLink.objects.filter(repository=repository, branch=branch)
               .values("number", "title", "url", "state", "draft").distinct()):
        for story in stories:
            PullRequestLink.objects.get_or_create(repository=repository, number=pr["number"], story=story, defaults={
                "title": pr["title"], "url": pr["url"], "branch": branch, "state": pr["state"], "draft": pr["draft"]})
    return f"push to {branch}: {len(stories)} stor{'y' if len(stories) == 1 else 'ies'} named"


CHECK_RESULTS = {"success", "failure", "neutral", "cancelled", "skipped", "timed_out", "action_required",
                 "stale", "startup_failure"}


def _check_suite(repository, payload: dict) -> str:
    """The checks of a pull request's head commit: GitHub's conclusion when the suite completed,
    "pending" while it is queued or running."""
    suite = payload.get("check_suite") or {}
    conclusion = str(suite.get("conclusion") or "")
    result = conclusion if conclusion in CHECK_RESULTS else "pending"
    numbers = [int(p.get("number")) for p in (suite.get("pull_requests") or [])[:100]
               if isinstance(p, dict) and str(p.get("number") or "").isdigit()]
    updated = PullRequestLink.objects.filter(repository=repository, number__in=numbers).update(checks=result)
    return f"checks {result}: {updated} link{'' if updated == 1 else 's'} updated"


def github_delivery_receive(*, hook_token: str, event: str, delivery_id: str, signature: str | None,
                            body: bytes) -> str:
    """An inbound GitHub webhook: verified by X-Hub-Signature-256 with the repository's sealed secret,
    processed once per X-GitHub-Delivery (a replay answers 200 and changes nothing), in one
    transaction with its log row. Raises WebhookRefused (404 unknown URL, 401 bad signature, 400)."""
    repository = Repository.objects.select_related("product", "created_by").filter(hook_token=hook_token).first()
    if repository is None:
        raise WebhookRefused(404, "unknown webhook URL")
    if not signature_valid(secret=unseal(repository.secret_sealed), body=body, header=signature):
        raise WebhookRefused(401, "signature does not match")
    delivery_id = (delivery_id or "").strip()[:64]
    if not delivery_id:
        raise WebhookRefused(400, "missing X-GitHub-Delivery")
    payload = webhook_json_object(body)
    event = (event or "").strip()[:40]
    with transaction.atomic():
        _, created = GitHubDelivery.objects.get_or_create(repository=repository, delivery_id=delivery_id,
                                                          defaults={"event": event})
        if not created:
            return "already processed"
        name = str((payload.get("repository") or {}).get("full_name") or "")
        if name and name.lower() != repository.full_name.lower():
            outcome = f"ignored: delivery for {name[:100]}"
        elif event == "pull_request":
            outcome = _pull_request(repository, payload)
        elif event == "push":
            outcome = _push(repository, payload)
        elif event == "check_suite":
            outcome = _check_suite(repository, payload)
        elif event == "ping":
            outcome = "ping: connected"
        else:
            outcome = f"ignored: {event or 'no'} event"
        GitHubDelivery.objects.filter(repository=repository, delivery_id=delivery_id).update(outcome=outcome[:200])
        Repository.objects.filter(id=repository.id).update(last_delivery_at=timezone.now())
    return outcome
