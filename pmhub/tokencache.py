"""The API-token cache: one Redis GET authenticates a token call, no database query.

key: `apitoken:<sha256 of the raw key>` -> the token row, its owner's row (without the password
hash) and the token's membership (workspace id, name, slug, role), for TOKEN_CACHE_SECONDS.

Only valid tokens are cached (unrevoked, active owner, still a member). Anything that changes
what the entry says *forgets* it: revoking (pmhub.services.api_tokens_revoke, the one way to
revoke tokens), a membership saved or deleted, the owner or the workspace saved (signals in
pmhub.apps). Forgetting writes a tombstone for the cache lifetime instead of deleting, and an
entry is only ever *added* (SET NX): a request that read the database just before a revocation
committed cannot put the old state back. While a tombstone stands the token is read from the
database on each call (correct, only slower). A change made around the services and the models'
save/delete (a raw queryset update() of users or memberships) is seen after at most
TOKEN_CACHE_SECONDS. See docs/decisions/1900-api-token-cache.md.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.cache import cache
from django.db import transaction

TOKEN_CACHE_SECONDS = 15
_TOMBSTONE = "-"


def token_cache_key(key_hash: str) -> str:
    return f"apitoken:{key_hash}"


def token_entry_get(key_hash: str):
    """The cached entry (a dict) or None (not cached, or forgotten a moment ago)."""
    entry = cache.get(token_cache_key(key_hash))
    return entry if isinstance(entry, dict) else None


_ON_REQUEST = "_pmhub_token_entry"


def remember_token_entry(request, key_hash: str, entry) -> None:
    """Keep an entry read with the throttle counters (one round trip) for authentication."""
    http_request = getattr(request, "_request", request)
    setattr(http_request, _ON_REQUEST, (key_hash, entry if isinstance(entry, dict) else None))


def token_entry_for(request, key_hash: str):
    """The entry read earlier in this request, else read now (None: not cached or forgotten)."""
    http_request = getattr(request, "_request", request)
    known = getattr(http_request, _ON_REQUEST, None)
    if known is not None and known[0] == key_hash:
        return known[1]
    return token_entry_get(key_hash)


def token_entry_add(key_hash: str, entry: dict) -> None:
    """Cache an entry unless one (or a tombstone) is already there."""
    cache.add(token_cache_key(key_hash), entry, TOKEN_CACHE_SECONDS)


def tokens_forget(key_hashes: Iterable[str]) -> None:
    """Forget these tokens now and again when the current transaction commits (a request that
    read the old rows in between could otherwise not be told)."""
    keys = [token_cache_key(h) for h in key_hashes]
    if not keys:
        return

    def tombstone():
        cache.set_many(dict.fromkeys(keys, _TOMBSTONE), TOKEN_CACHE_SECONDS)

    tombstone()
    transaction.on_commit(tombstone)


def tokens_forget_where(**filters) -> None:
    """Forget every unrevoked token matching `filters`, e.g. user_id=..., workspace_id=..."""
    from .models import ApiToken

    tokens_forget(ApiToken.objects.filter(revoked_at__isnull=True, **filters).values_list("key_hash", flat=True))
