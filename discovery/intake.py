"""Validation of insight items arriving in bulk (API, CSV): one pass, errors per item index.

Pure: no database. The service resolves people and companies and writes the rows.
"""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

TEXT_MAX = 20_000
KEY_MAX = 100


class BatchInvalid(Exception):
    def __init__(self, errors: dict):
        super().__init__("Some items are invalid.")
        self.errors = errors


class BatchTooLarge(Exception):
    def __init__(self, size: int, limit: int):
        super().__init__(f"A batch holds at most {limit:,} items; this one has {size:,}.")
        self.size, self.limit = size, limit


def _text(value, name, limit, errors, required=False) -> str:
    if value is None or value == "":
        if required:
            errors[name] = ["This field is required."]
        return ""
    if not isinstance(value, str):
        errors[name] = ["Send text."]
        return ""
    value = value.strip()
    if "\x00" in value:
        errors[name] = ["Text may not hold NUL characters."]
        return ""
    if len(value) > limit:
        errors[name] = [f"At most {limit:,} characters."]
        return ""
    if required and not value:
        errors[name] = ["This field is required."]
    return value


def email_domain(email: str) -> str:
    """The lower-case domain of an e-mail address ('' when there is none)."""
    return email.rpartition("@")[2].strip().lower() if "@" in email else ""


def validate_item(item) -> tuple[dict | None, dict]:
    """One intake item -> (clean dict, errors)."""
    if not isinstance(item, dict):
        return None, {"non_field_errors": ["Send an object."]}
    errors: dict = {}
    clean = {
        "key": _text(item.get("id", item.get("key")), "id", KEY_MAX, errors),
        "title": _text(item.get("title"), "title", 200, errors),
        "text": _text(item.get("text"), "text", TEXT_MAX, errors, required=True),
        "author_name": _text(item.get("name", item.get("author_name")), "name", 160, errors),
    }
    email = _text(item.get("email", item.get("author_email")), "email", 190, errors)
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = ["Enter a valid e-mail address."]
    clean["author_email"] = email.lower()
    company = item.get("company")
    clean["company_external_id"] = _text(company, "company", KEY_MAX, errors) if company is not None else ""
    return (None if errors else clean), errors


def validate_items(items, *, limit: int) -> list[dict]:
    """All items clean, or BatchInvalid with {index: errors}; a key repeated inside one batch counts once."""
    if not isinstance(items, list):
        raise BatchInvalid({"items": ["Send {\"items\": [...]}, a list of insights."]})
    if len(items) > limit:
        raise BatchTooLarge(len(items), limit)
    rows, errors = [], {}
    for index, item in enumerate(items):
        clean, item_errors = validate_item(item)
        if item_errors:
            errors[str(index)] = item_errors
        else:
            rows.append(clean)
    if errors:
        raise BatchInvalid(errors)
    return rows
