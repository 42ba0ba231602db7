"""Live updates: thin events to the pages open in a workspace, sent after the transaction commits.

Every domain event already goes through one seam, `pmhub.webhooks.webhook_emit` (services call it
inside their transaction). This module listens to that seam (`webhook_emitted`), so every
registered event type reaches live pages without code in the apps. What goes out is thin: the
event type, the object's id and version, its product and workspace, and a per-workspace sequence
number; never the content. The page fetches what it may see (docs/live.md, decision 1830).

Pieces:
- `tab_*`: the per-tab client id (header `X-PMHub-Tab`, set by static/js/live.js on every htmx and
  PMHub.fetch request) carried from the request to the event, so a change is not echoed back to
  the tab that made it.
- `EventLog`: per-workspace sequence numbers and a bounded buffer of recent events (Redis when
  REDIS_URL is set, one process's memory otherwise), read by a reconnecting socket and by the
  polling fallback (`/live/poll`), and the presence sets (who views which backlog, board, story).
- `live_publish`: after commit, number the events and hand them to the channel layer's workspace
  group; the consumer (pmhub/consumers.py) checks the subscriber's membership before sending.
"""

import asyncio
import atexit
import concurrent.futures
import contextvars
import json
import logging
import os
import re
import threading
import time
from collections import deque
from functools import partial

from asgiref.sync import async_to_sync
from django.conf import settings
from django.db import transaction

log = logging.getLogger("pmhub.live")

TAB_HEADER = "HTTP_X_PMHUB_TAB"
TAB_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
TOPIC_RE = re.compile(r"^[a-z_]{1,30}:[0-9]{1,18}$")
# More objects than this in one emission (an import) become one event per product: the page
# refreshes once instead of a thousand times.
COALESCE_OVER = 20
PRESENCE_TTL = 60  # seconds a viewer stays listed without a heartbeat (the page beats every 20 s)

_tab: contextvars.ContextVar[str] = contextvars.ContextVar("pmhub_live_tab", default="")


# --- the tab that made the change ---------------------------------------------------------------
def tab_from_request(request) -> str:
    value = request.META.get(TAB_HEADER, "")
    return value if TAB_RE.match(value) else ""


def tab_set(value: str):
    return _tab.set(value if TAB_RE.match(value or "") else "")


def tab_reset(token) -> None:
    _tab.reset(token)


# --- sends held until the response has left (decision 2303) --------------------------------------
# While a request's view runs (LiveTabMiddleware), the channel-layer sends its writes post are
# held, and queued on the publishing loop when the response is closed, that is after the server
# wrote it: the loop's work (channels_redis' round trips, in Python, on a thread of this process)
# then no longer takes the GIL from the request that caused it. A send that waits (a membership
# revocation) first queues every held one, so the order of sends stays the order of calls.
_held: contextvars.ContextVar[list | None] = contextvars.ContextVar("pmhub_live_held", default=None)


def sends_held(held: list):
    """Hold the sends posted from here on in `held`; returns the token to stop (`sends_hold_end`)."""
    return _held.set(held)


def sends_hold_end(token) -> None:
    _held.reset(token)


def sends_release(held: list) -> None:
    """Queue the held sends, in order (once: the list is emptied)."""
    while held:
        _publisher.post(*held.pop(0))


_unreleased = threading.local()


def sends_release_later(held: list) -> None:
    """Release `held` when this thread's response is closed (`sends_release_pending`, connected to
    request_finished: whichever response a middleware above returns in the end)."""
    pending = getattr(_unreleased, "lists", None)
    if pending is None:
        pending = _unreleased.lists = []
    pending.append(held)


def sends_release_pending(**_kwargs) -> None:
    for held in getattr(_unreleased, "lists", None) or ():
        sends_release(held)
    _unreleased.lists = []


def tab_current() -> str:
    return _tab.get()


# --- group names (channel layer: ASCII letters, digits, '-', '_', '.', under 100 characters) ----
def ws_group(workspace_id: int) -> str:
    """The group of a workspace: its members are the web processes' hubs (pmhub/consumers.py), not
    each socket, so an event crosses Redis once per process."""
    return f"live.ws.{int(workspace_id)}"


def presence_group(workspace_id: int, topic: str) -> str:
    return f"live.p.{int(workspace_id)}.{topic.replace(':', '-')}"


# --- thin events ----------------------------------------------------------------------------------
def _int(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def event_thin(*, workspace_id: int, event: str, payload: dict, tab: str = "") -> dict:
    """What a live page learns of an emitted event: type, id, version, product, workspace and the
    topics a page region can listen to (`product:<id>`, `<noun>:<id>`). The payloads of the apps
    differ ({"id": ...}, {"initiative": {...}}, {"kpi": 3, "product": 1}); the noun is the part of
    the event name before the verb ("story" of "story.updated", "risk" of "governance.risk.updated")."""
    parts = event.split(".")
    noun = parts[-2] if len(parts) >= 2 else parts[0]
    nested = payload.get(noun) if isinstance(payload.get(noun), dict) else None
    source = nested or payload
    obj_id = _int(source.get("id")) or _int(payload.get(noun)) or _int(payload.get(f"{noun}_id"))
    product = (_int(source.get("product_id")) or _int(source.get("product"))
               or _int(payload.get("product_id")) or _int(payload.get("product")))
    if noun == "product" and product is None:
        product = obj_id
    topics = []
    if product is not None:
        topics.append(f"product:{product}")
    if obj_id is not None and noun != "product":
        topics.append(f"{noun}:{obj_id}")
    return {"type": event, "id": obj_id, "version": _int(source.get("version")), "product": product,
            "workspace": int(workspace_id), "topics": topics, "tab": tab}


def events_from_emission(*, workspace_id: int, event: str, payloads: list[dict], tab: str = "") -> list[dict]:
    events = [event_thin(workspace_id=workspace_id, event=event, payload=p, tab=tab) for p in payloads]
    if len(events) <= COALESCE_OVER:
        return events
    by_product: dict = {}
    for e in events:
        by_product.setdefault(e["product"], 0)
        by_product[e["product"]] += 1
    return [{"type": event, "id": None, "version": None, "product": product, "workspace": int(workspace_id),
             "topics": [f"product:{product}"] if product is not None else [], "tab": tab, "count": count}
            for product, count in by_product.items()]


def for_client(event: dict) -> dict:
    """The event as a page receives it: without the tab id of whoever made the change."""
    return {k: v for k, v in event.items() if k != "tab"}


# --- the event log: sequence numbers, recent events, presence ------------------------------------
class MemoryLog:
    """One process's memory: `make run` (runserver with the in-memory channel layer)."""

    def __init__(self, size: int):
        self.size = size
        self._lock = threading.Lock()
        self._seq: dict[int, int] = {}
        self._events: dict[int, deque] = {}
        self._presence: dict[tuple, dict] = {}

    def append(self, workspace_id: int, event: dict) -> int:
        with self._lock:
            seq = self._seq.get(workspace_id, 0) + 1
            self._seq[workspace_id] = seq
            self._events.setdefault(workspace_id, deque(maxlen=self.size)).append(dict(event, seq=seq))
            return seq

    def current(self, workspace_id: int) -> int:
        return self._seq.get(workspace_id, 0)

    def since(self, workspace_id: int, seq: int):
        with self._lock:
            return _missed(self._seq.get(workspace_id, 0), list(self._events.get(workspace_id, ())), seq)

    def presence_touch(self, workspace_id, topic, member: dict, ttl=PRESENCE_TTL) -> list[dict]:
        with self._lock:
            people = self._presence.setdefault((workspace_id, topic), {})
            people[member["c"]] = (time.time() + ttl, member)
            return self._people(people)

    def presence_leave(self, workspace_id, topic, channel) -> list[dict]:
        with self._lock:
            people = self._presence.get((workspace_id, topic), {})
            people.pop(channel, None)
            return self._people(people)

    def presence_list(self, workspace_id, topic) -> list[dict]:
        with self._lock:
            return self._people(self._presence.get((workspace_id, topic), {}))

    @staticmethod
    def _people(people: dict) -> list[dict]:
        now = time.time()
        for channel in [c for c, (until, _m) in people.items() if until < now]:
            del people[channel]
        return _distinct([m for _until, m in people.values()])

    # The consumer awaits these; memory needs no thread.
    async def asince(self, workspace_id, seq):
        return self.since(workspace_id, seq)

    async def acurrent(self, workspace_id):
        return self.current(workspace_id)

    async def apresence_touch(self, workspace_id, topic, member, ttl=PRESENCE_TTL):
        return self.presence_touch(workspace_id, topic, member, ttl)

    async def apresence_leave(self, workspace_id, topic, channel):
        return self.presence_leave(workspace_id, topic, channel)

    async def apresence_list(self, workspace_id, topic):
        return self.presence_list(workspace_id, topic)


# INCR, push and trim in one step, so the buffer is always in sequence order even when two
# processes publish at once. With a third key (the channel layer's member set of the workspace's
# group, in the same Redis database) it also answers how many members the group has that the layer
# would not discard as expired (score above ARGV[3]): {seq, members} (decision 2300).
_APPEND = """
local seq = redis.call('INCR', KEYS[1])
redis.call('LPUSH', KEYS[2], seq .. '|' .. ARGV[1])
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[2]) - 1)
redis.call('EXPIRE', KEYS[2], 86400)
if KEYS[3] then
  return {seq, redis.call('ZCOUNT', KEYS[3], '(' .. ARGV[3], '+inf')}
end
return seq
"""


class RedisLog:
    """Shared by every web process (the sequence is per workspace, not per process)."""

    PREFIX = "pmhub:live:"

    def __init__(self, url: str, size: int):
        import redis
        import redis.asyncio

        self.size = size
        self.url = url
        self._sync = redis.Redis.from_url(url)
        self._append = self._sync.register_script(_APPEND)
        self._async_by_loop: dict = {}
        self._redis_async = redis.asyncio

    def _keys(self, workspace_id):
        return f"{self.PREFIX}{int(workspace_id)}:seq", f"{self.PREFIX}{int(workspace_id)}:events"

    def _presence_key(self, workspace_id, topic):
        return f"{self.PREFIX}{int(workspace_id)}:presence:{topic}"

    def _aclient(self):
        # One asyncio client per event loop (tests run several loops in one process).
        import asyncio

        loop = asyncio.get_running_loop()
        client = self._async_by_loop.get(id(loop))
        if client is None:
            client = self._redis_async.Redis.from_url(self.url, max_connections=1000)
            self._async_by_loop = {id(loop): client}
        return client

    def append(self, workspace_id: int, event: dict) -> int:
        return int(self._append(keys=list(self._keys(workspace_id)), args=[json.dumps(event), self.size]))

    def append_counting(self, workspace_id: int, event: dict, group_key: bytes, cutoff: int) -> tuple[int, int]:
        """`append`, and in the same round trip the number of members of the sorted set
        `group_key` with a score above `cutoff` (a channel layer group's live members)."""
        seq, members = self._append(keys=[*self._keys(workspace_id), group_key],
                                    args=[json.dumps(event), self.size, cutoff])
        return int(seq), int(members)

    def current(self, workspace_id: int) -> int:
        return int(self._sync.get(self._keys(workspace_id)[0]) or 0)

    @staticmethod
    def _parse(rows) -> list[dict]:
        events = []
        for row in reversed(rows):
            seq, _sep, body = row.decode().partition("|")
            events.append(dict(json.loads(body), seq=int(seq)))
        return events

    def since(self, workspace_id: int, seq: int):
        seq_key, events_key = self._keys(workspace_id)
        with self._sync.pipeline(transaction=True) as pipe:
            current, rows = pipe.get(seq_key).lrange(events_key, 0, -1).execute()
        return _missed(int(current or 0), self._parse(rows), seq)

    async def asince(self, workspace_id: int, seq: int):
        seq_key, events_key = self._keys(workspace_id)
        async with self._aclient().pipeline(transaction=True) as pipe:
            current, rows = await pipe.get(seq_key).lrange(events_key, 0, -1).execute()
        return _missed(int(current or 0), self._parse(rows), seq)

    async def acurrent(self, workspace_id: int) -> int:
        return int(await self._aclient().get(self._keys(workspace_id)[0]) or 0)

    async def apresence_touch(self, workspace_id, topic, member: dict, ttl=PRESENCE_TTL) -> list[dict]:
        key, now = self._presence_key(workspace_id, topic), time.time()
        async with self._aclient().pipeline(transaction=True) as pipe:
            pipe.zadd(key, {json.dumps(member, sort_keys=True): now + ttl}).expire(key, ttl * 2)
            await pipe.execute()
        return await self.apresence_list(workspace_id, topic)

    async def apresence_leave(self, workspace_id, topic, channel) -> list[dict]:
        key = self._presence_key(workspace_id, topic)
        client = self._aclient()
        for raw in await client.zrange(key, 0, -1):
            if json.loads(raw).get("c") == channel:
                await client.zrem(key, raw)
        return await self.apresence_list(workspace_id, topic)

    async def apresence_list(self, workspace_id, topic) -> list[dict]:
        key, now = self._presence_key(workspace_id, topic), time.time()
        client = self._aclient()
        await client.zremrangebyscore(key, "-inf", now)
        return _distinct([json.loads(raw) for raw in await client.zrange(key, 0, -1)])


def _missed(current: int, buffered: list[dict], seq: int):
    """The events after `seq`, or None when the client must reload: it is further behind than
    the buffer reaches, or ahead of the log (the log was reset)."""
    if seq >= current:
        return [] if seq == current else None
    missed = [e for e in buffered if e["seq"] > seq]
    if not missed or missed[0]["seq"] != seq + 1:
        return None
    return missed


def _distinct(members: list[dict]) -> list[dict]:
    """One entry per person (two tabs of the same person are one face), sorted by name."""
    by_user = {m["u"]: {"id": m["u"], "name": m["n"], "initials": m.get("i", "")} for m in members}
    return sorted(by_user.values(), key=lambda p: (p["name"].lower(), p["id"]))


_logs: dict = {}
_logs_lock = threading.Lock()


def event_log():
    """The log for the current settings (Redis beside the cache, or memory)."""
    url, size = getattr(settings, "LIVE_REDIS_URL", ""), settings.LIVE_BUFFER
    key = (url, size)
    with _logs_lock:
        found = _logs.get(key)
        if found is None:
            found = _logs[key] = RedisLog(url, size) if url else MemoryLog(size)
        return found


# --- publishing ------------------------------------------------------------------------------------
def live_publish(*, workspace_id: int, events: list[dict]) -> list[int]:
    """Number the events and send them to the workspace's open pages. Called after commit: a page
    never hears of a change it could not yet read. Returns the sequence numbers. The numbering
    (the event log that polling and reconnecting pages read) is done before this returns; the send
    to a channel layer with a server behind it (Redis) is queued on this process's publishing loop
    and the request does not wait for it (decision 2023): the loop sends in the order queued."""
    from channels.layers import get_channel_layer

    journal = event_log()
    layer = get_channel_layer()
    group = ws_group(workspace_id)
    watch = _group_watch(layer, journal, group)
    numbered, members = [], None
    for e in events:
        e = dict(e, at=time.time())
        if watch is None:
            seq = journal.append(workspace_id, e)
        else:
            seq, members = journal.append_counting(workspace_id, e, *watch)
        numbered.append(dict(e, seq=seq))
    # A group without members (no page of this workspace open in any live process) gets no send:
    # the count is taken with the last event's numbering, in the same Redis script, so a hub that
    # joins later reads these events from the log in its catch-up (it joins, then reads the log).
    if layer is not None and numbered and members != 0:
        _group_send(layer, group, {"type": "live.events", "events": numbered}, wait=False)
    return [e["seq"] for e in numbered]


def _group_watch(layer, journal, group: str) -> tuple[bytes, int] | None:
    """(member set key, expiry cutoff) of `group` when the channel layer is channels_redis' own
    RedisChannelLayer on one Redis database, the one the event log uses: its members can then be
    counted in the numbering's script (decision 2300). None otherwise (every event is sent)."""
    from channels_redis.core import RedisChannelLayer

    if type(layer) is not RedisChannelLayer or not isinstance(journal, RedisLog) or len(layer.hosts) != 1:
        return None
    host = layer.hosts[0]
    if host.get("address") != journal.url or "db" in host:
        return None
    # channels_redis discards members whose score is at most now - group_expiry before it sends.
    return layer._group_key(group), int(time.time()) - int(layer.group_expiry)


PUBLISH_TIMEOUT = 10  # seconds one send may take before it is logged as failed
PUBLISH_QUEUE_MAX = 10_000  # sends waiting on the publishing loop; beyond, new events are dropped (logged)


class _Publisher:
    """This process's event loop for sending to a channel layer that talks to a server (Redis),
    in a daemon thread of its own, started at the first publish (and again in a forked child).

    `async_to_sync` from a request thread starts a new thread and a new event loop for every call,
    and channels_redis keeps its connection pool per event loop: every write request paid a
    thread, a loop, a Redis connection and its teardown, 2.3 ms of CPU against 0.27 ms on a loop
    that lives as long as the process (decision 1970).

    Every send goes through one queue, drained by one task: sends leave in the order they were
    queued, whether the caller waits for its own (`send`: errors and time-outs are the caller's) or
    not (`post`, the events of a write: failures are logged; decision 2023). At exit the process
    waits for the queue to drain (at most PUBLISH_TIMEOUT)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue | None = None
        self._thread: threading.Thread | None = None
        self._pid = 0

    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._pid != os.getpid() or not self._thread.is_alive():
                loop, queue = asyncio.new_event_loop(), asyncio.Queue()
                thread = threading.Thread(target=self._run, args=(loop, queue), name="pmhub-live-publisher",
                                          daemon=True)
                thread.start()
                self._loop, self._queue, self._thread, self._pid = loop, queue, thread, os.getpid()
            return self._loop

    @staticmethod
    def _run(loop, queue) -> None:
        asyncio.set_event_loop(loop)
        loop.create_task(_Publisher._drain(queue))
        loop.run_forever()

    @staticmethod
    async def _drain(queue) -> None:
        while True:
            send, done = await queue.get()
            try:
                result = await asyncio.wait_for(send(), PUBLISH_TIMEOUT)
            except Exception as exc:  # noqa: BLE001 - handed to whoever waits, or logged (post)
                if not done.done():
                    done.set_exception(exc)
            else:
                if not done.done():
                    done.set_result(result)
            finally:
                queue.task_done()

    def _submit(self, send) -> concurrent.futures.Future:
        """Queue `send` (a coroutine function) behind every send queued before it."""
        done: concurrent.futures.Future = concurrent.futures.Future()
        loop = self.loop()
        queue = self._queue
        if queue.qsize() >= PUBLISH_QUEUE_MAX:
            done.set_exception(RuntimeError(f"{PUBLISH_QUEUE_MAX} live sends already waiting"))
            return done
        loop.call_soon_threadsafe(queue.put_nowait, (send, done))
        return done

    def send(self, layer, group: str, message: dict) -> None:
        """Send, in order with everything queued before, and wait for it."""
        self._submit(partial(layer.group_send, group, message)).result(2 * PUBLISH_TIMEOUT)

    def post(self, layer, group: str, message: dict) -> None:
        """Send, in order with everything queued before, without waiting: a failure is logged."""
        self._submit(partial(layer.group_send, group, message)).add_done_callback(_log_failed_post)

    def flush(self, timeout: float = PUBLISH_TIMEOUT) -> None:
        """Wait until every send queued so far has gone (or failed)."""
        if self._loop is None or self._pid != os.getpid() or not self._thread.is_alive():
            return
        try:
            self._submit(partial(asyncio.sleep, 0)).result(timeout)
        except Exception:  # noqa: BLE001 - at exit: nothing more to do than say so
            log.warning("live: sends still queued at exit were not confirmed")


def _log_failed_post(done) -> None:
    exc = done.exception()
    if exc is not None:
        log.error("live: events could not be sent to the channel layer", exc_info=exc)


_publisher = _Publisher()
atexit.register(_publisher.flush)


def _group_send(layer, group: str, message: dict, wait: bool = True) -> None:
    """Send from sync code. A layer with a server behind it (Redis) is sent to on this process's
    publishing loop (_Publisher), waiting for the send or not (`wait`). The in-memory layer
    (`make run`, tests) lives in the loop of its receivers: async_to_sync reaches that loop from a
    sync_to_async thread; a thread that runs an event loop of its own (an async view, a test
    driving a browser) cannot block on async_to_sync, so the send then runs in a short-lived
    thread. Either way an in-memory send is done when this returns."""
    from channels.layers import InMemoryChannelLayer

    if not isinstance(layer, InMemoryChannelLayer):
        held = _held.get()
        if held is not None and not wait:
            held.append((layer, group, message))
            return
        if held:  # a waited send leaves after the held ones (decision 2303)
            sends_release(held)
        (_publisher.send if wait else _publisher.post)(layer, group, message)
        return
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        async_to_sync(layer.group_send)(group, message)
        return
    errors = []

    def send():
        try:
            async_to_sync(layer.group_send)(group, message)
        except Exception as exc:  # noqa: BLE001 - re-raised below, in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=send, name="pmhub-live-send")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def _on_emitted(sender, *, workspace_id, event, payloads, **kwargs):
    events = events_from_emission(workspace_id=workspace_id, event=event, payloads=payloads, tab=tab_current())
    # robust: a live event that cannot be sent (Redis away) is logged, never a failed save.
    transaction.on_commit(partial(live_publish, workspace_id=workspace_id, events=events), robust=True)


def membership_revoke(*, user_id: int, workspace_ids: list[int]) -> None:
    """Tell the user's open sockets to leave these workspaces now. Sent after commit on each
    workspace's own group, the same path as its events and so in order with them: every event
    committed after the removal reaches the sockets after the revocation."""
    from channels.layers import get_channel_layer

    def send():
        layer = get_channel_layer()
        if layer is not None:
            for ws in workspace_ids:
                _group_send(layer, ws_group(ws), {"type": "live.revoke", "user": int(user_id), "workspace": int(ws)})

    if workspace_ids:
        transaction.on_commit(send, robust=True)


def connect_signals() -> None:
    """Called by the core's AppConfig.ready."""
    from django.db.models.signals import post_delete, post_save

    from .models import Membership, User
    from .webhooks import webhook_emitted

    webhook_emitted.connect(_on_emitted, dispatch_uid="pmhub.live")
    post_delete.connect(_membership_deleted, sender=Membership, dispatch_uid="pmhub.live.membership")
    post_save.connect(_user_saved, sender=User, dispatch_uid="pmhub.live.user")


def _membership_deleted(sender, instance, **kwargs):
    membership_revoke(user_id=instance.user_id, workspace_ids=[instance.workspace_id])


def _user_saved(sender, instance, created=False, **kwargs):
    if not created and not instance.is_active:
        from .models import Membership

        membership_revoke(user_id=instance.pk, workspace_ids=list(
            Membership.objects.filter(user_id=instance.pk).values_list("workspace_id", flat=True)))
