"""Reading an inbound e-mail into an intake item (pure: no database).

The text is the plain-text part, else the HTML part with its tags dropped (nothing of the HTML is
kept: it is shown escaped like any insight). Quoted replies (lines starting with '>') are dropped.
"""

import hashlib
import re
from email import message_from_bytes, policy
from email.utils import parseaddr

from django.utils.html import strip_tags

MAX_TEXT = 20_000


def message_key(message_id: str, raw: bytes) -> str:
    """The idempotency key of a message: its Message-ID (hashed when long), else a hash of the bytes."""
    message_id = (message_id or "").strip()
    if not message_id:
        return "mail:" + hashlib.sha256(raw).hexdigest()[:40]
    if len(message_id) > 90:
        return "mail:" + hashlib.sha256(message_id.encode()).hexdigest()[:40]
    return "mail:" + message_id


def _body(message) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        text = part.get_content()
    except (LookupError, UnicodeError, AssertionError):
        payload = part.get_payload(decode=True) or b""
        text = payload.decode("utf-8", "replace")
    if part.get_content_type() == "text/html":
        text = strip_tags(re.sub(r"(?i)<br\s*/?>|</p>", "\n", text))
    lines = [line for line in text.replace("\r\n", "\n").split("\n") if not line.lstrip().startswith(">")]
    return "\n".join(lines).strip().replace("\x00", "")[:MAX_TEXT]


def parse(raw: bytes) -> tuple[dict, str]:
    """(intake item for discovery.intake.validate_item, Message-ID)."""
    message = message_from_bytes(raw, policy=policy.default)
    name, address = parseaddr(str(message.get("From", "")))
    subject = " ".join(str(message.get("Subject", "")).split())[:200]
    message_id = str(message.get("Message-ID", "")).strip()
    item = {"id": message_key(message_id, raw), "title": subject, "text": _body(message) or subject,
            "email": address.strip().lower()[:190] if "@" in address else "", "name": name.strip()[:160]}
    return item, message_id
