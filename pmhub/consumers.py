"""The live websocket (`/ws/live/`): a page subscribes to its workspace and hears thin events.

Protocol (JSON both ways; static/js/live.js is the client, docs/live.md the reference):
  page -> {"op": "subscribe", "workspace": 3, "since": 41, "tab": "<tab id>"}
  page <- {"type": "subscribed", "workspace": 3, "seq": 44} then the missed events, or
          {"type": "reload", "workspace": 3} when it is further behind than the buffer reaches
  page <- {"type": "refused", "workspace": 3} and the socket closes (4403): not a member
  page <- {"type": "event", "event": {"type": "story.moved", "id": 12, "version": 4, "product": 5,
          "workspace": 3, "topics": ["product:5", "story:12"], "seq": 45, "at": ...}} for each
          change made in another tab
  page <- {"type": "revoked", "workspace": 3}: the person left the workspace; nothing more comes
  page -> {"op": "presence", "workspace": 3, "topic": "story:12"}: "I am viewing this"
  page <- {"type": "presence", "topic": "story:12", "people": [{"id", "name", "initials"}]}
  page -> {"op": "ping"} every 20 s: presence heartbeat and a fresh membership check; <- pong

Tenancy: a workspace is joined only after a membership check; every event is checked against the
connection's set of workspaces, which the revocation message (sent on the user's own group when a
membership is deleted or the user deactivated) updates before any later event arrives; and each
heartbeat re-reads the memberships from the database.
"""

import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from .live import PRESENCE_TTL, TAB_RE, TOPIC_RE, event_log, for_client, presence_group, user_group, ws_group

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
        await self.channel_layer.group_add(user_group(self.user_id), self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if not hasattr(self, "workspaces"):
            return
        await self._presence_leave()
        for ws in list(self.workspaces):
            await self.channel_layer.group_discard(ws_group(ws), self.channel_name)
        await self.channel_layer.group_discard(user_group(self.user_id), self.channel_name)

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
        # Join first, then read the log: an event published in between arrives twice at worst,
        # and the page drops what it has seen (by sequence number).
        await self.channel_layer.group_add(ws_group(ws), self.channel_name)
        self.workspaces.add(ws)
        journal = event_log()
        current = await journal.acurrent(ws)
        await self.send_json({"type": "subscribed", "workspace": ws, "seq": current, "user": self.user_id})
        if isinstance(since, int) and not isinstance(since, bool):
            missed = await journal.asince(ws, since)
            if missed is None:
                await self.send_json({"type": "reload", "workspace": ws})
                return
            for event in missed:
                await self._send_event(event)

    async def live_events(self, message):
        for event in message["events"]:
            await self._send_event(event)

    async def _send_event(self, event):
        if event["workspace"] not in self.workspaces:
            return  # revoked (or never subscribed): the membership as this connection knows it now
        if self.tab and event.get("tab") == self.tab:
            return  # the tab that made the change already shows it
        await self.send_json({"type": "event", "event": for_client(event)})

    async def live_revoke(self, message):
        ws = message.get("workspace")
        gone = set(self.workspaces) if ws is None else {ws} & self.workspaces
        for w in gone:
            self.workspaces.discard(w)
            await self.channel_layer.group_discard(ws_group(w), self.channel_name)
            if self.presence and self.presence[0] == w:
                await self._presence_leave()
            await self.send_json({"type": "revoked", "workspace": w})

    async def _heartbeat(self):
        if self.workspaces:
            still = await _member_workspaces(self.user_id, list(self.workspaces))
            for w in self.workspaces - still:
                await self.live_revoke({"workspace": w})
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
