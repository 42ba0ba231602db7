"""Secrets at rest: values a workspace admin gives us to reach another service (a Slack or Teams
webhook URL, a repository's webhook secret, an API token). See docs/decisions/1701-secrets-at-rest.md.

`seal(text)` returns a Fernet token (AES-128-CBC + HMAC-SHA256, from the `cryptography` package),
`unseal(token)` the text again. The key comes from the `ENCRYPTION_KEYS` setting: a list of
Fernet keys, the first encrypts, all of them decrypt (so a key can be rotated: put the new one
first, re-seal, drop the old one). Without the setting a key is derived from SECRET_KEY with
HKDF-SHA256, so a development install works with no step; production sets its own keys so that
a leaked SECRET_KEY alone does not open the stored secrets.

A sealed value never leaves the server: APIs and pages show `mask_url(...)` / "set" instead.
"""

from __future__ import annotations

import base64
from functools import lru_cache
from urllib.parse import urlsplit

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


class SecretUnreadable(Exception):
    """A sealed value that no configured key opens (the keys changed, or the row was tampered with)."""


def _derived_key(secret_key: str) -> bytes:
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"pmhub.secretbox", info=b"fernet-v1").derive(
        secret_key.encode())
    return base64.urlsafe_b64encode(raw)


@lru_cache(maxsize=4)
def _box(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    material = [k.encode() for k in keys if k.strip()] or [_derived_key(secret_key)]
    return MultiFernet([Fernet(k) for k in material])


def _current() -> MultiFernet:
    return _box(tuple(getattr(settings, "ENCRYPTION_KEYS", []) or []), settings.SECRET_KEY)


def seal(text: str) -> str:
    """Encrypt `text`; the token (ASCII) is what the database stores."""
    return _current().encrypt(text.encode()).decode()


def unseal(token: str) -> str:
    """Decrypt a token made by `seal`. Raises SecretUnreadable when no configured key opens it."""
    try:
        return _current().decrypt(token.encode()).decode()
    except (InvalidToken, ValueError):
        raise SecretUnreadable("the stored secret cannot be decrypted with the configured keys") from None


def mask_url(url: str) -> str:
    """What a page may show of a secret URL: scheme, host and the last four characters of the path
    (`https://hooks.slack.com/…a1b2`), enough to tell two apart, not enough to use one."""
    parts = urlsplit(url or "")
    tail = (parts.path + ("?" + parts.query if parts.query else ""))[-4:]
    return f"{parts.scheme}://{parts.hostname or ''}/…{tail}" if parts.hostname else "…"
