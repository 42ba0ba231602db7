"""Who listens to a workspace's events, cached: the write path asks the cache, not the database.

Every story write emits an event (pmhub.webhooks), and each receiver looked up its subscribers
inside the write's transaction — webhook endpoints, chat channels, Jira project links: three
queries per write, nearly always answering "nobody". A receiver now asks
`subscribers_cached(kind, workspace_id, load)` for a small summary (the events its endpoints
selected, the products with a Jira link) and runs its real query only when the summary says the
event has a listener.

Correctness (no stale answer after a write, decision 1931): the summary is stored with the
workspace's generation for that kind, read in the same round trip (MGET); a write of a
subscriber calls `subscribers_changed`, which bumps the generation at once (the writer's own
transaction, and tests, see it) and again when the transaction commits (a reader that loaded the
old rows while the write was in flight stored them under a generation nobody reads any more).
Kinds register the models whose saves and deletes change them (`subscribers_watch`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

TIMEOUT = 24 * 3600  # a summary unused for a day is dropped; generations never expire


def _keys(kind: str, workspace_id: int) -> tuple[str, str]:
    return f"subscribers:{kind}:{workspace_id}:gen", f"subscribers:{kind}:{workspace_id}"


# Kinds every webhook emission asks (pmhub.webhooks reads them in one round trip, decision 1964).
_EMIT_KINDS: set[str] = set()
_read_together: ContextVar[dict | None] = ContextVar("subscribers_read_together", default=None)


def subscribers_keys(workspace_id: int | None, also: tuple[tuple[str, int], ...] = ()) -> list[str]:
    """The cache keys `subscribers_read_together(workspace_id, also=also)` reads: for a caller that
    reads them earlier in another round trip (the API's throttle, decision 2356) and passes them
    as `read_before`."""
    kinds = sorted(_EMIT_KINDS) if workspace_id is not None else []
    return [k for pair in [(kind, workspace_id) for kind in kinds] + list(also) for k in _keys(*pair)]


@contextmanager
def subscribers_read_together(workspace_id: int | None, also: tuple[tuple[str, int], ...] = (),
                              read_before: tuple[frozenset, dict] | None = None):
    """Inside the block, `subscribers_cached` of the workspace answers from ONE cache read (MGET)
    made on entry, for every kind its emission receivers ask (webhooks, channels, Jira): an event
    is one cache round trip, not one per kind. `also`: more (kind, id) pairs to read in the same
    round trip (a story create's custom fields of its product, decision 2112). What the block's
    outer read already holds is not read again; what the read misses each kind loads as before."""
    held = _read_together.get() or {}
    # workspace_id None: only the `also` pairs (the workspace is not known yet).
    kinds = sorted(_EMIT_KINDS) if workspace_id is not None else []
    pairs = [(kind, workspace_id) for kind in kinds] + list(also)
    keys = {pair: _keys(*pair) for pair in pairs if pair not in held}
    # `read_before`: (keys already read in this request, {key: value} of those found): a pair whose
    # keys were all read is not read again.
    done, found = read_before or (frozenset(), {})
    found = dict(found)
    missing = [k for ks in keys.values() if not set(ks) <= done for k in ks]
    if missing:
        found.update(cache.get_many(missing))
    read = {pair: {k: found[k] for k in ks if k in found} for pair, ks in keys.items()}
    token = _read_together.set({**held, **read})
    try:
        yield
    finally:
        _read_together.reset(token)


def subscribers_cached(kind: str, workspace_id: int, load: Callable[[int], object]):
    """`load(workspace_id)`'s answer, from the cache while no subscriber of `kind` in the workspace
    changed since it was stored. One cache round trip when it is there (none inside
    `subscribers_read_together`). `workspace_id` is the id the kind is keyed by (custom fields: a
    product's)."""
    gen_key, key = _keys(kind, workspace_id)
    read = (_read_together.get() or {}).get((kind, workspace_id))
    found = read if read is not None else cache.get_many([gen_key, key])
    gen = found.get(gen_key)
    stored = found.get(key)
    if gen is not None and stored is not None and stored[0] == gen:
        return stored[1]
    if gen is None:
        # A fresh (or evicted) generation: a new value, never one an older summary carries.
        cache.add(gen_key, time.time_ns(), timeout=None)
        gen = cache.get(gen_key)
    value = load(workspace_id)  # read after the generation: a concurrent change bumps it past this one
    cache.set(key, (gen, value), timeout=TIMEOUT)
    return value


def _bump(kind: str, workspace_id: int) -> None:
    gen_key, _ = _keys(kind, workspace_id)
    try:
        cache.incr(gen_key)
    except ValueError:  # not there (evicted): any new value differs from what summaries carry
        cache.set(gen_key, time.time_ns(), timeout=None)


def subscribers_changed(kind: str, workspace_id: int | None) -> None:
    """A subscriber of `kind` in the workspace was created, changed or deleted."""
    if workspace_id is None:
        return
    _bump(kind, workspace_id)
    transaction.on_commit(lambda: _bump(kind, workspace_id))


def subscribers_watch(kind: str, model, workspace_of: Callable, *, asked_on_emit: bool = True) -> None:
    """Saves and deletes of `model` change the subscribers of `kind` of `workspace_of(instance)`.
    `asked_on_emit`: webhook emissions ask this kind (read with the others, one round trip)."""
    if asked_on_emit:
        _EMIT_KINDS.add(kind)

    def changed(sender, instance, **kwargs):
        subscribers_changed(kind, workspace_of(instance))

    uid = f"pmhub.subscribers:{kind}:{model._meta.label}"
    post_save.connect(changed, sender=model, weak=False, dispatch_uid=uid)
    post_delete.connect(changed, sender=model, weak=False, dispatch_uid=uid)
