"""GitHub webhooks, pure: signature check and story keys (docs/decisions/1703-github-pull-requests.md).

A story's key is `PMH-<id>` (ids are unique in the installation, so the key needs no migration and
no per-product counter; GitHub's own `#<n>` means an issue or pull request of the repository and is
never read as a story). It is matched case-insensitively as a whole word in a branch name
(`feature/pmh-42-export`), a pull request's title or a commit message.
"""

from __future__ import annotations

import hashlib
import hmac
import re

KEY_PREFIX = "PMH"
_KEY = re.compile(r"(?<![A-Za-z0-9])pmh-(\d{1,12})(?![A-Za-z0-9])", re.IGNORECASE)


def story_key(story_id: int) -> str:
    return f"{KEY_PREFIX}-{story_id}"


def story_ids_in(*texts: str | None) -> list[int]:
    """Story ids named by keys in the texts, in order of first appearance, without repeats."""
    found: dict[int, None] = {}
    for text in texts:
        for match in _KEY.finditer(text or ""):
            found.setdefault(int(match.group(1)), None)
    return list(found)


def signature_valid(*, secret: str, body: bytes, header: str | None) -> bool:
    """X-Hub-Signature-256: "sha256=" + hex HMAC-SHA256 of the raw body with the webhook secret,
    compared in constant time."""
    if not header or not header.startswith("sha256=") or not secret:
        return False
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.strip().encode())


def sign(*, secret: str, body: bytes) -> str:
    """What GitHub sends: used by the tests, and documented for anyone replaying a delivery by hand."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
