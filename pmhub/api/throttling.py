"""API throttling per token (or signed-in user) and per client address, in one Redis round trip.

Each limit is a sliding-window counter (the current and the previous fixed window, the previous
one weighted by how much of it still overlaps the sliding window): two integers per identity,
instead of DRF's list of every request time (thousands of entries, read and rewritten on each
call). `throttle_check` evaluates any number of limits in one Lua script: all are counted only
when all allow. ScopedViewSet checks the address and the token (identified by the hash of the
key from the header) together, before authentication, so guessing tokens or calling anonymously
is throttled too; a session caller's per-user limit is checked after authentication.

Over the rate, DRF answers 429 with a Retry-After header; the exception handler gives the body
the one error format (`code: "throttled"`). Rates: API_THROTTLE_TOKEN / API_THROTTLE_ADDRESS.
See docs/decisions/1901-throttle-one-round-trip.md.
"""

from __future__ import annotations

import hashlib
import math
import time

from django.core.cache import cache
from rest_framework.authentication import get_authorization_header
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from ..tokencache import remember_token_entry, token_cache_key

# KEYS: per limit, the current window's key then the previous window's key; then any number of
# keys to read in the same round trip (the caller's API-token cache entry, a view's reads: decision
# 2356). ARGV: per limit, the limit, the window's length (s) and the elapsed part of the current
# window (s). Returns {per limit 0 (allowed) or the seconds to wait, then each read key's value or
# false}; counts every limit only if all allow.
_SCRIPT = """
local n = #ARGV / 3
local out, blocked = {}, false
for i = 1, n do
  local limit, window, elapsed = tonumber(ARGV[3*i-2]), tonumber(ARGV[3*i-1]), tonumber(ARGV[3*i])
  local cur = tonumber(redis.call('GET', KEYS[2*i-1]) or '0')
  local prev = tonumber(redis.call('GET', KEYS[2*i]) or '0')
  if prev * (window - elapsed) / window + cur + 1 > limit then
    blocked = true
    out[i] = math.max(1, math.ceil(window - elapsed))
  else
    out[i] = 0
  end
end
for k = 2 * n + 1, #KEYS do out[k - n] = redis.call('GET', KEYS[k]) end
if not blocked then
  for i = 1, n do
    redis.call('INCR', KEYS[2*i-1])
    redis.call('EXPIRE', KEYS[2*i-1], 2 * math.ceil(tonumber(ARGV[3*i-1])))
  end
end
return out
"""
_scripts: dict = {}


def _keys_and_args(limits, now):
    keys, args = [], []
    for ident, (limit, window) in limits:
        index = int(now // window)
        keys += [cache.make_and_validate_key(f"throttle:{ident}:{window}:{index}"),
                 cache.make_and_validate_key(f"throttle:{ident}:{window}:{index - 1}")]
        args += [limit, window, now - index * window]
    return keys, args


def _redis_client():
    inner = getattr(cache, "_cache", None)
    get_client = getattr(inner, "get_client", None)
    return get_client(write=True) if get_client else None


_NOT_READ = object()


def throttle_check(limits: list[tuple[str, tuple[int, int]]], *, read: str | None = None,
                   also: tuple[str, ...] = ()):
    """[(identity, (limit, window seconds)), ...] -> per limit None (allowed) or seconds to wait.
    One Redis round trip for all of them; counted only when every limit allows.

    With `read` (a cache key), returns (waits, the cached value or None) and reads that key in the
    same round trip; on a cache other than Redis the value is _NOT_READ (the caller reads it).
    With `also` (more cache keys), returns (waits, value, {key: value} of those found, as
    cache.get_many answers; None on a cache other than Redis)."""
    now = time.time()
    reads = ([read] if read else []) + list(also)
    client = _redis_client() if (limits or reads) else None
    if client is None:
        waits = _check_in_cache(limits, now) if limits else []
        if also:
            return waits, (_NOT_READ if read else None), None
        return (waits, _NOT_READ) if read else waits
    script = _scripts.get(id(client.connection_pool))
    if script is None:
        script = _scripts[id(client.connection_pool)] = client.register_script(_SCRIPT)
    keys, args = _keys_and_args(limits, now)
    keys += [cache.make_and_validate_key(key) for key in reads]
    answer = script(keys=keys, args=args, client=client)
    # A trailing nil is dropped from Lua's table: missing values read as None.
    answer += [None] * (len(limits) + len(reads) - len(answer))
    waits = [int(w) or None for w in answer[:len(limits)]]
    loads = cache._cache._serializer.loads
    values = [None if v is None else loads(v) for v in answer[len(limits):]]
    if not reads:
        return waits
    if not also:
        return waits, values[0]
    found = {key: value for key, value in zip(also, values[len(values) - len(also):], strict=True)
             if value is not None}
    return waits, (values[0] if read else None), found


def _check_in_cache(limits, now):
    """The same algorithm on any Django cache (LocMem in development without Redis)."""
    waits, plans = [], []
    for ident, (limit, window) in limits:
        index = int(now // window)
        cur_key, prev_key = f"throttle:{ident}:{window}:{index}", f"throttle:{ident}:{window}:{index - 1}"
        values = cache.get_many([cur_key, prev_key])
        elapsed = now - index * window
        estimate = values.get(prev_key, 0) * (window - elapsed) / window + values.get(cur_key, 0) + 1
        waits.append(max(1, math.ceil(window - elapsed)) if estimate > limit else None)
        plans.append((cur_key, window))
    if not any(waits):
        for key, window in plans:
            if cache.add(key, 1, 2 * math.ceil(window)) is False:
                try:
                    cache.incr(key)
                except ValueError:
                    cache.set(key, 1, 2 * math.ceil(window))
    return waits


class WindowRateThrottle(SimpleRateThrottle):
    """A DRF throttle on the sliding-window counters. `identity(request, authenticated=)` names
    who is counted (None: this throttle does not apply at that moment)."""

    def get_rate(self):
        # Read the rates at request time (DRF binds them at import), so a changed setting applies.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def limit(self) -> tuple[int, int] | None:
        rate = self.get_rate()
        if rate is None:
            return None
        return self.parse_rate(rate)

    def identity(self, request, *, authenticated: bool) -> str | None:
        raise NotImplementedError

    def get_cache_key(self, request, view):
        ident = self.identity(request, authenticated=True)
        return None if ident is None else f"{self.scope}:{ident}"

    def key_at(self, request, view, *, authenticated: bool) -> str | None:
        """Who is counted at this moment (before or after authentication), or None."""
        if type(self).get_cache_key is not WindowRateThrottle.get_cache_key:
            # A subclass keys its counts its own way (e.g. per e-mail address): after authentication only.
            return self.get_cache_key(request, view) if authenticated else None
        ident = self.identity(request, authenticated=authenticated)
        return None if ident is None else f"{self.scope}:{ident}"

    def allow_request(self, request, view):
        """For views outside ScopedViewSet (DRF calls each throttle in turn) and direct callers."""
        key, limit = self.get_cache_key(request, view), self.limit()
        if key is None or limit is None:
            return True
        self._wait = throttle_check([(key, limit)])[0]
        return self._wait is None

    def wait(self):
        return getattr(self, "_wait", None)


def _token_key_hash(request) -> str | None:
    """sha256 of the key in `Authorization: Token <key>` (as stored: pmhub.models.hash_secret)."""
    header = get_authorization_header(request).split()
    if len(header) == 2 and header[0].lower() == b"token":
        return hashlib.sha256(header[1]).hexdigest()
    return None


def _token_hash(request) -> str | None:
    key_hash = _token_key_hash(request)
    return key_hash[:32] if key_hash else None


class TokenRateThrottle(WindowRateThrottle):
    """Per API token (known from the header before authentication), or per signed-in user."""

    scope = "token"

    def identity(self, request, *, authenticated):
        token = _token_hash(request)
        if token is not None:
            return f"h{token}"
        if not authenticated:
            return None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return f"u{user.pk}"
        return None


class AddressRateThrottle(WindowRateThrottle):
    scope = "address"

    def identity(self, request, *, authenticated):
        return self.get_ident(request)


def _no_reads(request):
    return ()


def cache_read_before(request) -> tuple[frozenset, dict] | None:
    """(the keys read with the throttle, {key: value} of those found) of this request, or None."""
    return getattr(getattr(request, "_request", request), "_pmhub_cache_read", None)


def check_throttles_at(view, request, *, authenticated: bool) -> None:
    """Count the request against every throttle of the view that applies now and has not yet
    counted it, in one round trip; raise DRF's Throttled (429 + Retry-After) when one refuses.

    Before authentication, a token caller's cache entry (pmhub/tokencache.py) is read in the same
    round trip and left on the request for ApiTokenAuthentication."""
    done = request.__dict__.setdefault("_pmhub_throttled", set())
    limits, others = [], []
    for throttle in view.get_throttles():
        if not isinstance(throttle, WindowRateThrottle):
            if authenticated:
                others.append(throttle)
            continue
        key = (type(throttle), throttle.scope)
        if key in done:
            continue
        ident, limit = throttle.key_at(request, view, authenticated=authenticated), throttle.limit()
        if limit is None:
            done.add(key)
            continue
        if ident is None:
            continue
        done.add(key)
        limits.append((ident, limit))
    read, also = None, ()
    if not authenticated:
        key_hash = _token_key_hash(request)
        if key_hash is not None:
            read = token_cache_key(key_hash)
        # A view's cache reads of this request, in the same round trip (decision 2356).
        also = tuple(getattr(view, "cache_reads_before", _no_reads)(request))
    if also:
        waits, entry, found = throttle_check(limits, read=read, also=also)
        if found is not None:
            http_request = getattr(request, "_request", request)
            http_request._pmhub_cache_read = (frozenset(also), found)
    elif read:
        waits, entry = throttle_check(limits, read=read)
    else:
        waits = throttle_check(limits)
    if read and entry is not _NOT_READ:
        remember_token_entry(request, key_hash, entry)
    waits = [w for w in waits if w is not None]
    waits += [t.wait() for t in others if not t.allow_request(request, view)]
    if waits:
        view.throttled(request, max((w for w in waits if w is not None), default=None))
