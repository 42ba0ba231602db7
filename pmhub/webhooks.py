"""Seam for outgoing webhooks. Services call `webhook_emit` after a change; the delivery
machinery (signed JSON, retries, delivery log) lives behind it."""


def webhook_emit(*, workspace_id: int, event: str, payload: dict) -> None:
    return None
