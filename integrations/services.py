"""Writes of the integrations app: Slack and Microsoft Teams channels and their messages.

A channel's URL is sealed (pmhub.secretbox) and never leaves the server. Its deliveries are rows of
the shared webhook outbox (reports.WebhookDelivery on the channel's own WebhookEndpoint of kind
"slack"/"teams"): sent by the same worker task with the same backoff, Retry-After honoured, the
same sweep, the same auto-disable and the same delivery log. See docs/decisions/1700-1702.
"""

from __future__ import annotations

import json
import logging
from functools import partial
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.urls import reverse

from pmhub.access import require_role
from pmhub.models import Role, Workspace
from pmhub.outbound import OutboundRefused, outbound_check_url
from pmhub.secretbox import mask_url, seal, unseal
from pmhub.services import activity_record
from pmhub.utils import version_claim
from pmhub.webhooks import webhook_event_names
from reports.models import WebhookDelivery, WebhookEndpoint

from . import messages
from .models import Channel
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


def channel_deliveries_create(*, workspace_id: int, event: str, payloads: list[dict]) -> list[WebhookDelivery]:
    """Inside the emitting transaction: one delivery per payload for each active channel of the
    workspace that subscribed to `event` and whose product is the event's (or none: every product).
    The stored payload is the message's summary, so every retry posts the same message."""
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
