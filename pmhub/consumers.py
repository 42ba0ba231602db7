"""The live websocket (`/ws/live/`): a page subscribes to its workspace and hears thin events.

Protocol (JSON both ways; static/js/live.js is the client, docs/live.md the reference):
  page -> {"op": "subscribe", "workspace": 3, "since": 41, "tab": "<tab id>"}
  page <- {"type": "subscribed", "workspace": 3, "seq": 44, "user": 7} then the missed events, or
          {"type": "reload", "workspace": 3} when it is further behind than the buffer reaches
  page <- {"type": "refused", "workspace": 3} and the socket closes (4403): not a member
  page <- {"type": "event", "event": {"type": "story.moved", "id": 12, "version": 4, "product": 5,
          "workspace": 3, "topics": ["product:5", "story:12"], "seq": 45, "at": ...}} for each
          change made in another tab
  page <- {"type": "revoked", "workspace": 3}: the person left the workspace; nothing more comes
  page -> {"op": "presence", "workspace": 3, "topic": "story:12"}: "I am viewing this"
  page <- {"type": "presence", "topic": "story:12", "people": [{"id", "name", "initials"}]}
  page -> {"op": "ping"} every 20 s: presence heartbeat and a fresh membership check; <- pong

Fan-out: each web process has one hub (per event loop) that joins the channel-layer group of each
workspace its sockets watch, receives each event once and writes it, encoded once, to its own
sockets. The per-socket route (a channel-layer message per socket) cost some 0.2 ms of CPU per
socket and event, the hub a fraction of it (docs/live.md, decision 1832).

Tenancy: a workspace is joined only after a membership check; every event is checked against the
socket's set of workspaces, which a revocation (sent on the workspace's group when a membership
is deleted or the person deactivated, so in order with the events) updates before any later event
is handed out; and each heartbeat re-reads the memberships from the database.
"""

import asyncio
import json
import logging
import time

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from .live import PRESENCE_TTL, PUBLISH_TIMEOUT, TAB_RE, TOPIC_RE, event_log, for_client, presence_group, ws_group

log = logging.getLogger("pmhub.live")
MAX_WORKSPACES = 10


@database_sync_to_async
def _member_workspaces(user_id: int, workspace_ids: list[int]) -> set[int]:
    from .models import Membership

    return set(Membership.objects.filter(user_id=user_id, user__is_active=True, workspace_id__in=workspace_ids)
               .values_list("workspace_id", flat=True))


def _initials(name: str) -> str:
    words = [w for w in name.replace("@", " ").replace(".", " ").split() if w]
    return "".join(w[0] for w in words[:2]).upper() or "?"


GROUP_REFRESH_SECONDS = 3600  # channels_redis forgets a group member after a day


class Hub:
    """This process's receiver of workspace events: one channel, in the group of every workspace
    that one of its sockets watches."""

    def __init__(self, layer):
        self.layer = layer
        self.channel: str | None = None
        self.sockets: dict[int, set] = {}
        self.lock = asyncio.Lock()
        self.tasks: list[asyncio.Task] = []

    async def join(self, ws: int, consumer) -> None:
        async with self.lock:
            if self.channel is None:
                self.channel = await self.layer.new_channel()
                self.tasks = [asyncio.create_task(self._receive()), asyncio.create_task(self._refresh())]
            if ws not in self.sockets:
                await self.layer.group_add(ws_group(ws), self.channel)
                self.sockets[ws] = set()
            self.sockets[ws].add(consumer)

    async def leave(self, ws: int, consumer) -> None:
        async with self.lock:
            watchers = self.sockets.get(ws)
            if watchers is None:
                return
            watchers.discard(consumer)
            if not watchers:
                del self.sockets[ws]
                await self.layer.group_discard(ws_group(ws), self.channel)

    async def _refresh(self):
        while True:
            await asyncio.sleep(GROUP_REFRESH_SECONDS)
            for ws in list(self.sockets):
                await self.layer.group_add(ws_group(ws), self.channel)

    async def _receive(self):
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:  # Redis away for a moment: say so and keep listening
                if asyncio.current_task().cancelling():
                    # Cancelled (the loop is closing) while the layer was reading: redis-py may turn
                    # the cancellation into a connection error. Listening again would swallow the
                    # cancel and keep the loop from closing for ever.
                    raise asyncio.CancelledError from None
                log.exception("live: the channel layer failed; listening again in 1 s")
                await asyncio.sleep(1)
                continue
            try:
                await self.dispatch(message)
            except Exception:  # one bad message or socket must not stop the process's live updates
                log.exception("live: could not hand out %s", message.get("type"))

    async def dispatch(self, message: dict) -> None:
        if message.get("type") == "live.events":
            for event in message["events"]:
                text = json.dumps({"type": "event", "event": for_client(event)})
                for consumer in list(self.sockets.get(event["workspace"], ())):
                    try:
                        await consumer.deliver(event, text)
                    except Exception:  # a socket closing under us: the others still get the event
                        log.debug("live: a socket did not take an event", exc_info=True)
        elif message.get("type") == "live.revoke":
            for consumer in list(self.sockets.get(message["workspace"], ())):
                if consumer.user_id == message["user"]:
                    await consumer.revoke(message["workspace"])


_hubs: dict = {}


def hub() -> Hub:
    """The hub of the running event loop (a server has one loop; the tests start several)."""
    from channels.layers import get_channel_layer

    loop = asyncio.get_running_loop()
    layer = get_channel_layer()
    found = _hubs.get(loop)
    if found is None or found.layer is not layer:
        for old_loop in [other for other in _hubs if other.is_closed()]:
            del _hubs[old_loop]
        found = _hubs[loop] = Hub(layer)
    return found


class LiveConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.user_id = user.pk
        self.name = user.display_name if hasattr(user, "display_name") else str(user)
        self.tab = ""
        self.workspaces: set[int] = set()
        self.presence: tuple[int, str] | None = None
        self.catching_up: dict[int, list] = {}  # workspace -> events the hub handed out during catch-up
        # workspace -> (the last sequence number the catch-up covered, until when). Every event
        # numbered up to it was in the log and has been sent; its copy from the channel layer can
        # still arrive afterwards (a write does not wait for its send: decision 2023) and is
        # dropped, so a reconnecting page receives each event once. A queued send leaves within
        # PUBLISH_TIMEOUT or not at all, so the rule ends after twice that: a sequence that starts
        # again (Redis restarted) is not held back for longer.
        self.caught_up: dict[int, tuple[int, float]] = {}
        await self.accept()

    async def disconnect(self, code):
        if not hasattr(self, "workspaces"):
            return
        await self._presence_leave()
        for ws in list(self.workspaces):
            await hub().leave(ws, self)

    async def receive_json(self, content, **kwargs):
        op = content.get("op") if isinstance(content, dict) else None
        if op == "subscribe":
            await self._subscribe(content)
        elif op == "presence":
            await self._presence_join(content)
        elif op == "ping":
            await self._heartbeat()
        else:
            await self.send_json({"type": "error", "message": "Unknown message."})

    # --- subscription -----------------------------------------------------------------------
    async def _subscribe(self, content):
        ws, since, tab = content.get("workspace"), content.get("since"), content.get("tab") or ""
        if not isinstance(ws, int) or isinstance(ws, bool) or len(self.workspaces) >= MAX_WORKSPACES:
            await self.send_json({"type": "error", "message": "Unknown workspace."})
            return
        if isinstance(tab, str) and TAB_RE.match(tab):
            self.tab = tab
        if ws not in await _member_workspaces(self.user_id, [ws]):
            # The same answer for a workspace that does not exist: no existence leak.
            log.info("live: user %s refused at subscribe to workspace %s", self.user_id, ws)
            await self.send_json({"type": "refused", "workspace": ws})
            await self.close(code=4403)
            return
        # Join first, then read the log; what the hub hands out meanwhile waits until the missed
        # events are sent, so the page receives everything once and in order.
        self.catching_up[ws] = []
        self.workspaces.add(ws)
        await hub().join(ws, self)
        journal = event_log()
        current = await journal.acurrent(ws)
        await self.send_json({"type": "subscribed", "workspace": ws, "seq": current, "user": self.user_id})
        last = since if isinstance(since, int) and not isinstance(since, bool) else current
        missed = await journal.asince(ws, last)
        if missed is None:
            self.catching_up.pop(ws, None)
            await self.send_json({"type": "reload", "workspace": ws})
            return
        for event in missed:
            await self._send_event(event)
            last = event["seq"]
        self.caught_up[ws] = (last, time.monotonic() + 2 * PUBLISH_TIMEOUT)
        waiting = self.catching_up.get(ws, [])
        while waiting:
            event = waiting.pop(0)
            if event["seq"] > last:
                await self._send_event(event)
                last = event["seq"]
        self.catching_up.pop(ws, None)

    async def deliver(self, event: dict, text: str) -> None:
        """An event from the hub, already encoded for the page."""
        waiting = self.catching_up.get(event["workspace"])
        if waiting is not None:
            waiting.append(event)
            return
        caught_up = self.caught_up.get(event["workspace"])
        if caught_up is not None:
            if time.monotonic() > caught_up[1]:
                del self.caught_up[event["workspace"]]
            elif event["seq"] <= caught_up[0]:
                return  # sent by the catch-up already
        if self._may_see(event):
            await self.send(text_data=text)

    def _may_see(self, event) -> bool:
        if event["workspace"] not in self.workspaces:
            return False  # revoked (or never subscribed): the membership as this socket knows it now
        return not (self.tab and event.get("tab") == self.tab)  # that tab already shows its change

    async def _send_event(self, event):
        if self._may_see(event):
            await self.send_json({"type": "event", "event": for_client(event)})

    async def revoke(self, ws: int) -> None:
        if ws not in self.workspaces:
            return
        self.workspaces.discard(ws)
        self.catching_up.pop(ws, None)
        self.caught_up.pop(ws, None)
        await hub().leave(ws, self)
        if self.presence and self.presence[0] == ws:
            await self._presence_leave()
        await self.send_json({"type": "revoked", "workspace": ws})

    async def _heartbeat(self):
        if self.workspaces:
            still = await _member_workspaces(self.user_id, list(self.workspaces))
            for w in self.workspaces - still:
                await self.revoke(w)
        if self.presence:
            ws, topic = self.presence
            people = await event_log().apresence_touch(ws, topic, self._member(), PRESENCE_TTL)
            if people != getattr(self, "last_people", None):  # someone's heartbeat stopped
                await self._presence_broadcast(ws, topic, people)
        await self.send_json({"type": "pong"})

    # --- presence -------------------------------------------------------------------------------
    def _member(self) -> dict:
        return {"u": self.user_id, "n": self.name, "i": _initials(self.name), "c": self.channel_name}

    async def _presence_join(self, content):
        ws, topic = content.get("workspace"), content.get("topic")
        if ws not in self.workspaces or not isinstance(topic, str) or not TOPIC_RE.match(topic):
            await self.send_json({"type": "error", "message": "Subscribe to the workspace first."})
            return
        await self._presence_leave()
        self.presence = (ws, topic)
        await self.channel_layer.group_add(presence_group(ws, topic), self.channel_name)
        people = await event_log().apresence_touch(ws, topic, self._member(), PRESENCE_TTL)
        await self._presence_broadcast(ws, topic, people)

    async def _presence_leave(self):
        if not self.presence:
            return
        ws, topic = self.presence
        self.presence = None
        await self.channel_layer.group_discard(presence_group(ws, topic), self.channel_name)
        people = await event_log().apresence_leave(ws, topic, self.channel_name)
        await self._presence_broadcast(ws, topic, people)

    async def _presence_broadcast(self, ws, topic, people):
        await self.channel_layer.group_send(presence_group(ws, topic), {
            "type": "live.presence", "workspace": ws, "topic": topic, "people": people})

    async def live_presence(self, message):
        if message["workspace"] not in self.workspaces:
            return
        if self.presence == (message["workspace"], message["topic"]):
            self.last_people = message["people"]
        await self.send_json({"type": "presence", "topic": message["topic"], "people": message["people"]})
