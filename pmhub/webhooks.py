"""Seam for outgoing webhooks: the registry of events and the emission call.

Each app declares the events it emits (`webhook_events_register` in its `AppConfig.ready`), so
the subscription form and API offer exactly those and an emitted event can always be subscribed
to (tests/test_webhook_events.py checks every `webhook_emit` call against this registry).

Services call `webhook_emit` inside their transaction. The core does not know who delivers: the
reports app (signed JSON, retries, delivery log: an outbox of `WebhookDelivery` rows) connects to
`webhook_emitted` in its `AppConfig.ready`. That keeps the core free of feature-app imports
(docs/architecture.md, import-linter contract "core imports no feature app").
"""

from dataclasses import dataclass

from django.dispatch import Signal

from .subscribers import subscribers_read_together

# Sent with workspace_id, event and payloads (a list of JSON-able dicts) inside the emitting
# transaction; the receiver writes its outbox rows in that same transaction.
webhook_emitted = Signal()


@dataclass(frozen=True)
class WebhookEvent:
    name: str
    app: str
    description: str


_EVENTS: dict[str, WebhookEvent] = {}


def webhook_events_register(*, app: str, events: dict[str, str]) -> None:
    """Declare the events `app` emits ({name: what it means}). Registering the same event from
    another app is a programming error (one owner per event)."""
    for name, description in events.items():
        known = _EVENTS.get(name)
        if known is not None and known.app != app:
            raise ValueError(f"Webhook event {name!r} is already registered by {known.app}.")
        _EVENTS[name] = WebhookEvent(name=name, app=app, description=description)


def webhook_events() -> list[WebhookEvent]:
    """Every registered event, sorted by name: what a webhook endpoint may subscribe to."""
    return [_EVENTS[name] for name in sorted(_EVENTS)]


def webhook_event_names() -> list[str]:
    return sorted(_EVENTS)


def _check_registered(event: str) -> None:
    if event not in _EVENTS:
        # An event nobody can subscribe to would be silently lost: fail where it is emitted.
        raise LookupError(f"Webhook event {event!r} is not registered (see pmhub.webhooks).")


def webhook_emit(*, workspace_id: int, event: str, payload: dict) -> None:
    """Create a delivery per active endpoint of the workspace that selected `event`; each is
    sent on commit by Celery (signed, retried with backoff, logged)."""
    _check_registered(event)
    with subscribers_read_together(workspace_id):  # the receivers' lookups: one cache round trip
        webhook_emitted.send(sender=None, workspace_id=workspace_id, event=event, payloads=[payload])


def webhook_emit_many(*, workspace_id: int, event: str, payloads: list[dict]) -> None:
    """The same event for many objects (a bulk import): one endpoint lookup, one bulk insert."""
    _check_registered(event)
    if not payloads:
        return
    with subscribers_read_together(workspace_id):
        webhook_emitted.send(sender=None, workspace_id=workspace_id, event=event, payloads=payloads)


# --- delivery kinds -------------------------------------------------------------------------------
# A webhook endpoint of kind "webhook" gets PMHub's signed JSON. Other kinds (a Slack or Teams
# channel, registered by the integrations app) reuse the same outbox, retries and delivery log but
# shape their own request: the registered `build(delivery)` returns (url, body bytes, headers),
# and `page(endpoint)` the path of the page that shows the endpoint and its log.
@dataclass(frozen=True)
class DeliveryKind:
    name: str
    label: str
    build: object  # callable(delivery) -> (url: str, body: bytes, headers: dict)
    page: object  # callable(endpoint) -> str


_KINDS: dict[str, DeliveryKind] = {}


def webhook_kind_register(*, name: str, label: str, build, page) -> None:
    _KINDS[name] = DeliveryKind(name=name, label=label, build=build, page=page)


def webhook_kind(name: str) -> DeliveryKind | None:
    """The registered delivery kind, or None for PMHub's own signed JSON webhooks."""
    return _KINDS.get(name)
