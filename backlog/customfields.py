"""Validation of custom field values (pure apart from the list of member ids passed in).

Values live in `custom_values` (JSON) keyed by the field's key. Errors are keyed `cf_<key>`,
the name of the field in forms and in the API's error body.
"""

import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

TYPES = ["text", "number", "single_select", "multi_select", "date", "user", "url"]


def error_key(key: str) -> str:
    return f"cf_{key}"


def clean_value(field, value, *, member_ids: set[int]):
    """Return the JSON value to store for one field, or raise ValueError with a message."""
    t = field.type
    if t == "text":
        if not isinstance(value, str | int | float):
            raise ValueError("Enter text.")
        value = str(value).strip()
        if len(value) > 1000:
            raise ValueError("Keep it under 1000 characters.")
        return value
    if t == "number":
        if isinstance(value, bool):
            raise ValueError("Enter a number.")
        try:
            number = Decimal(str(value).strip())
        except (InvalidOperation, ValueError):
            raise ValueError("Enter a number.")
        if not number.is_finite():
            raise ValueError("Enter a number.")
        return int(number) if number == number.to_integral_value() else float(number)
    if t == "single_select":
        if value not in field.options:
            raise ValueError(f"Choose one of: {', '.join(map(str, field.options))}.")
        return value
    if t == "multi_select":
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list) or any(v not in field.options for v in value):
            raise ValueError(f"Choose among: {', '.join(map(str, field.options))}.")
        return list(dict.fromkeys(value))
    if t == "date":
        try:
            return datetime.date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise ValueError("Enter a date as YYYY-MM-DD.")
    if t == "user":
        try:
            user_id = int(value)
        except (TypeError, ValueError):
            raise ValueError("Choose a member of this workspace.")
        if user_id not in member_ids:
            raise ValueError("Choose a member of this workspace.")
        return user_id
    if t == "url":
        try:
            URLValidator(schemes=["http", "https"])(str(value))
        except ValidationError:
            raise ValueError("Enter a valid http(s) URL.")
        return str(value)
    raise ValueError("Unknown field type.")


def clean_values(*, fields, values: dict, current: dict | None = None, member_ids: set[int]) -> dict:
    """Merge `values` into `current` after validating each; None or "" clears a value.
    Raises ValidationError({"cf_<key>": [...]}) for every bad or missing required value."""
    if not isinstance(values, dict):
        raise ValidationError({"custom_values": "Send an object of field key to value."})
    by_key = {f.key: f for f in fields}
    result = dict(current or {})
    errors: dict[str, list[str]] = {}
    for key, value in values.items():
        field = by_key.get(key)
        if field is None:
            errors.setdefault(error_key(key), []).append("Unknown custom field.")
            continue
        if value is None or value == "" or value == []:
            result.pop(key, None)
            continue
        try:
            result[key] = clean_value(field, value, member_ids=member_ids)
        except ValueError as e:
            errors.setdefault(error_key(key), []).append(f"{field.label}: {e}")
    for field in fields:
        if field.required and result.get(field.key) in (None, "", []) and error_key(field.key) not in errors:
            errors.setdefault(error_key(field.key), []).append(f"{field.label} is required.")
    if errors:
        raise ValidationError(errors)
    return result


def validate_definition(*, key: str, label: str, type: str, options) -> dict:
    errors: dict[str, list[str]] = {}
    if not key or not key.replace("_", "").isalnum() or not key[0].isalpha() or key != key.lower():
        errors["key"] = ["Use lowercase letters, digits and _ (starting with a letter)."]
    if not (label or "").strip():
        errors["label"] = ["A field needs a label."]
    if type not in TYPES:
        errors["type"] = [f"Choose one of: {', '.join(TYPES)}."]
    if type in ("single_select", "multi_select"):
        if not isinstance(options, list) or not options or any(not str(o).strip() for o in options):
            errors["options"] = ["A select field needs at least one option."]
        elif len(set(options)) != len(options):
            errors["options"] = ["Options must be unique."]
    return errors
