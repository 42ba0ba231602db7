"""Seam for outgoing webhooks. Services call `webhook_emit` after a change; the delivery
machinery (signed JSON, retries, delivery log) lives in the reports app."""


def webhook_emit(*, workspace_id: int, event: str, payload: dict) -> None:
    """Create a delivery per active endpoint of the workspace that selected `event`; each is
    sent on commit by Celery (signed, retried with backoff, logged)."""
    from reports.services import webhook_deliveries_create

    webhook_deliveries_create(workspace_id=workspace_id, event=event, payload=payload)


def webhook_emit_many(*, workspace_id: int, event: str, payloads: list[dict]) -> None:
    """The same event for many objects (a bulk import): one endpoint lookup, one bulk insert."""
    if not payloads:
        return
    from reports.services import webhook_deliveries_create

    webhook_deliveries_create(workspace_id=workspace_id, event=event, payload=None, payloads=payloads)
