"""Validation of a batch of usage events: one pass in plain Python, no queries.

A DRF serializer per item costs more than the database insert at 1,000 items per request, so
the rules live here and the API only documents the shape (api/serializers.py).
"""

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

FEATURE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,99}$")
MAX_FUTURE = timedelta(days=1)
MAX_AGE = timedelta(days=730)
MAX_PROPERTIES_KEYS = 50


class BatchTooLarge(Exception):
    def __init__(self, size: int, limit: int):
        super().__init__(f"A batch holds at most {limit} events; this one has {size}. Split it and send again.")
        self.size, self.limit = size, limit


class BatchInvalid(Exception):
    """Per-item errors: {index: {field: [messages]}}; the whole batch is refused."""

    def __init__(self, errors: dict):
        super().__init__("Some events are invalid; nothing was stored.")
        self.errors = errors


def _ident(value, field: str, errors: dict) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        errors[field] = ["Required: a string (or integer) of 1 to 100 characters."]
        return None
    text = str(value).strip()
    if not text or len(text) > 100:
        errors[field] = ["Must be 1 to 100 characters."]
        return None
    return text


def _when(value, now: datetime, errors: dict) -> datetime | None:
    if not isinstance(value, str):
        errors["occurred_at"] = ["Required: an ISO 8601 date-time with offset, e.g. 2026-11-25T14:03:00Z."]
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        errors["occurred_at"] = ["Not an ISO 8601 date-time, e.g. 2026-11-25T14:03:00Z."]
        return None
    if parsed.tzinfo is None:
        errors["occurred_at"] = ["Include a time zone offset (Z or +01:00)."]
        return None
    if parsed > now + MAX_FUTURE:
        errors["occurred_at"] = ["Lies more than a day in the future."]
        return None
    if parsed < now - MAX_AGE:
        errors["occurred_at"] = ["Older than two years."]
        return None
    return parsed


def validate_events(items, *, tz: ZoneInfo, now: datetime) -> tuple[list[tuple], dict[str, dict]]:
    """Return (rows, errors). A row is (event_id, feature, actor, occurred_at, properties, local_day).
    Errors are keyed by the item's index in the batch (as a string, for JSON)."""
    rows: list[tuple] = []
    all_errors: dict[str, dict] = {}
    for index, item in enumerate(items):
        errors: dict = {}
        if not isinstance(item, dict):
            all_errors[str(index)] = {"non_field_errors": ["Each event is a JSON object."]}
            continue
        event_id = _ident(item.get("id"), "id", errors)
        feature = item.get("feature")
        if not isinstance(feature, str) or not FEATURE_RE.match(feature):
            errors["feature"] = ["Required: 1 to 100 characters of letters, digits and _ . : / - ."]
        actor = _ident(item.get("actor"), "actor", errors)
        occurred_at = _when(item.get("occurred_at"), now, errors)
        properties = item.get("properties")
        if properties is None:
            properties = {}
        elif not isinstance(properties, dict):
            errors["properties"] = ["Must be a JSON object."]
        elif len(properties) > MAX_PROPERTIES_KEYS:
            errors["properties"] = [f"At most {MAX_PROPERTIES_KEYS} keys."]
        if errors:
            all_errors[str(index)] = errors
            continue
        local_day: date = occurred_at.astimezone(tz).date()
        rows.append((event_id, feature, actor, occurred_at, properties, local_day))
    return rows, all_errors
