"""Live updates (pmhub/live.py, pmhub/consumers.py): the websocket consumer in-process, through
both channel layers (one process's memory, and Redis on the test's own cache database), against
the real database. Events are sent only after commit, are thin, reach members only (checked at
subscribe and at each event), are not echoed to the tab that made the change, are caught up after
a reconnect, and are also served by the polling fallback."""

import json
import os

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.db import transaction

from backlog import services as backlog
from pmhub import live
from pmhub.consumers import LiveConsumer
from pmhub.models import Membership, Role
from roadmaps.models import Product
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db(transaction=True)
TAB_A, TAB_B = "tab-aaaaaaaa", "tab-bbbbbbbb"
QUIET = 0.3  # seconds in which nothing must arrive


@pytest.fixture(params=["memory", "redis"])
def layer(request, settings):
    """Each test runs on the in-memory layer (`make run`) and on the Redis layer (production)."""
    if request.param == "memory":
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
        settings.LIVE_REDIS_URL = ""
        live._logs.clear()  # a fresh process's memory
    else:
        if not django_settings.LIVE_REDIS_URL:
            pytest.skip("REDIS_URL is not set")
        settings.CHANNEL_LAYERS = {"default": {**django_settings.CHANNEL_LAYERS["default"]}}
    return request.param


@pytest.fixture
def world(db):
    ws = WorkspaceFactory(name="Acme", slug="acme")
    alice, bob, outsider = UserFactory(email="alice@acme.test", name="Alice Archer"), \
        UserFactory(email="bob@acme.test", name="Bob Baker"), UserFactory(email="eve@globex.test")
    MembershipFactory(user=alice, workspace=ws, role=Role.EDITOR)
    MembershipFactory(user=bob, workspace=ws, role=Role.VIEWER)
    MembershipFactory(user=outsider, workspace=WorkspaceFactory(name="Globex", slug="globex"), role=Role.ADMIN)
    product = Product.objects.create(workspace=ws, name="Analytics")
    story = backlog.story_create(actor=alice, product=product, title="First")
    # The create's event leaves on the process's publishing loop without the write waiting for it
    # (decision 2023); the world is settled before a test opens its socket, or a busy machine
    # delivers "story.created" to a socket that expects only the test's own events.
    live._publisher.flush()
    return {"ws": ws, "alice": alice, "bob": bob, "outsider": outsider, "product": product, "story": story}


def run(fn):
    return async_to_sync(fn)()


async def open_socket(user):
    socket = WebsocketCommunicator(LiveConsumer.as_asgi(), "/ws/live/")
    socket.scope["user"] = user
    connected, _ = await socket.connect()
    assert connected
    return socket


async def subscribe(socket, ws, *, since=None, tab=TAB_B):
    await socket.send_json_to({"op": "subscribe", "workspace": ws.id, "since": since, "tab": tab})
    answer = await socket.receive_json_from(timeout=2)
    return answer


def _edit(story, actor, title, tab=""):
    token = live.tab_set(tab)
    try:
        story.refresh_from_db()
        return backlog.story_update(actor=actor, story=story, data={"title": title}, version=story.version)
    finally:
        live.tab_reset(token)


edit = database_sync_to_async(_edit)


async def next_event(socket, timeout=2):
    message = await socket.receive_json_from(timeout=timeout)
    assert message["type"] == "event", message
    return message["event"]


def test_an_edit_reaches_a_member_as_a_thin_event_after_commit(layer, world):
    async def scenario():
        socket = await open_socket(world["bob"])
        assert (await subscribe(socket, world["ws"]))["type"] == "subscribed"
        story = await edit(world["story"], world["alice"], "Renamed", tab=TAB_A)
        event = await next_event(socket)
        assert event["type"] == "story.updated" and event["id"] == story.id and event["version"] == story.version
        assert event["workspace"] == world["ws"].id and event["product"] == world["product"].id
        assert set(event["topics"]) == {f"product:{world['product'].id}", f"story:{story.id}"}
        assert "Renamed" not in json.dumps(event) and "tab" not in event  # thin: the page fetches the content
        await socket.disconnect()

    run(scenario)


def test_nothing_is_sent_before_the_transaction_commits_nor_after_a_rollback(layer, world):
    async def scenario():
        socket = await open_socket(world["bob"])
        await subscribe(socket, world["ws"])

        def rolled_back():
            with transaction.atomic():
                _edit(world["story"], world["alice"], "Never")
                raise RuntimeError("rolled back")

        with pytest.raises(RuntimeError):
            await database_sync_to_async(rolled_back)()
        assert await socket.receive_nothing(timeout=QUIET)

        before = live.event_log().current(world["ws"].id)

        def committed_late():
            with transaction.atomic():
                _edit(world["story"], world["alice"], "Later")
                assert live.event_log().current(world["ws"].id) == before  # not numbered inside the transaction

        await database_sync_to_async(committed_late)()
        event = await next_event(socket)
        assert event["type"] == "story.updated" and event["seq"] == before + 1
        await socket.disconnect()

    run(scenario)


def test_an_outsider_is_refused_at_subscribe_and_hears_nothing(layer, world):
    async def scenario():
        socket = await open_socket(world["outsider"])
        answer = await subscribe(socket, world["ws"])
        assert answer == {"type": "refused", "workspace": world["ws"].id}
        assert (await socket.receive_output(timeout=1))["type"] == "websocket.close"
        await edit(world["story"], world["alice"], "Secret plan")
        # Its acceptance twin: a member of the same workspace, subscribed the same way, hears it.
        member = await open_socket(world["bob"])
        assert (await subscribe(member, world["ws"]))["type"] == "subscribed"
        await edit(world["story"], world["alice"], "Public plan")
        assert (await next_event(member))["type"] == "story.updated"
        await member.disconnect()

    run(scenario)


def test_an_anonymous_socket_is_closed():
    async def scenario():
        from django.contrib.auth.models import AnonymousUser

        socket = WebsocketCommunicator(LiveConsumer.as_asgi(), "/ws/live/")
        socket.scope["user"] = AnonymousUser()
        connected, code = await socket.connect()
        assert not connected and code == 4401

    run(scenario)


def test_a_removed_member_stops_receiving_at_once(layer, world):
    async def scenario():
        socket = await open_socket(world["bob"])
        await subscribe(socket, world["ws"])
        await edit(world["story"], world["alice"], "Before removal")
        assert (await next_event(socket))["type"] == "story.updated"

        from pmhub import services as core

        def remove():
            admin = UserFactory(email="owner@acme.test")
            MembershipFactory(user=admin, workspace=world["ws"], role=Role.ADMIN)
            core.membership_remove(user=admin, membership=Membership.objects.get(user=world["bob"]))
            _edit(world["story"], world["alice"], "After removal")  # the very next change

        await database_sync_to_async(remove)()
        assert await socket.receive_json_from(timeout=2) == {"type": "revoked", "workspace": world["ws"].id}
        assert await socket.receive_nothing(timeout=QUIET)
        await socket.disconnect()

    run(scenario)


def test_a_deactivated_person_stops_receiving(layer, world):
    async def scenario():
        socket = await open_socket(world["bob"])
        await subscribe(socket, world["ws"])

        def deactivate():
            world["bob"].is_active = False
            world["bob"].save(update_fields=["is_active"])
            _edit(world["story"], world["alice"], "After leaving")

        await database_sync_to_async(deactivate)()
        assert (await socket.receive_json_from(timeout=2))["type"] == "revoked"
        assert await socket.receive_nothing(timeout=QUIET)
        await socket.disconnect()

    run(scenario)


def test_the_heartbeat_rechecks_membership_even_without_the_revocation_message(layer, world):
    """A membership deleted behind the services' back (a raw SQL clean-up) is caught at the next
    heartbeat: each ping re-reads the memberships."""
    async def scenario():
        socket = await open_socket(world["bob"])
        await subscribe(socket, world["ws"])
        await database_sync_to_async(
            lambda: Membership.objects.filter(user=world["bob"])._raw_delete(Membership.objects.db))()
        await socket.send_json_to({"op": "ping"})
        assert await socket.receive_json_from(timeout=2) == {"type": "revoked", "workspace": world["ws"].id}
        assert (await socket.receive_json_from(timeout=2))["type"] == "pong"
        await edit(world["story"], world["alice"], "Unseen")
        assert await socket.receive_nothing(timeout=QUIET)
        await socket.disconnect()

    run(scenario)


def test_a_change_is_not_echoed_to_the_tab_that_made_it(layer, world):
    async def scenario():
        own = await open_socket(world["alice"])
        await subscribe(own, world["ws"], tab=TAB_A)
        other_tab = await open_socket(world["alice"])  # the same person in a second tab
        await subscribe(other_tab, world["ws"], tab=TAB_B)
        await edit(world["story"], world["alice"], "Mine", tab=TAB_A)
        assert (await next_event(other_tab))["type"] == "story.updated"
        assert await own.receive_nothing(timeout=QUIET)
        await own.disconnect()
        await other_tab.disconnect()

    run(scenario)


def test_a_reconnecting_page_catches_up_on_what_it_missed(layer, world):
    async def scenario():
        socket = await open_socket(world["bob"])
        await subscribe(socket, world["ws"], since=live.event_log().current(world["ws"].id))
        await edit(world["story"], world["alice"], "One")
        seen = (await next_event(socket))["seq"]
        await socket.disconnect()

        await edit(world["story"], world["alice"], "Two")  # while the page is offline
        await database_sync_to_async(backlog.story_create)(actor=world["alice"], product=world["product"], title="New")

        again = await open_socket(world["bob"])
        assert (await subscribe(again, world["ws"], since=seen))["seq"] == seen + 2
        missed = [await next_event(again), await next_event(again)]
        assert [e["seq"] for e in missed] == [seen + 1, seen + 2]
        assert [e["type"] for e in missed] == ["story.updated", "story.created"]
        assert await again.receive_nothing(timeout=QUIET)
        await again.disconnect()

    run(scenario)


def test_a_late_copy_of_an_event_the_catch_up_sent_is_not_sent_again(layer, world):
    """A write does not wait for its event to reach the channel layer (decision 2023): a page that
    reconnects meanwhile gets the event from the log, then the layer's copy arrives. The page
    receives it once; the next event still arrives."""
    from channels.layers import get_channel_layer

    async def scenario():
        ws = world["ws"].id
        await edit(world["story"], world["alice"], "Offline")  # numbered while no page is open
        seq = await live.event_log().acurrent(ws)
        [logged] = await live.event_log().asince(ws, seq - 1)
        socket = await open_socket(world["bob"])
        assert (await subscribe(socket, world["ws"], since=seq - 1))["seq"] == seq
        assert (await next_event(socket))["seq"] == seq
        await get_channel_layer().group_send(live.ws_group(ws), {"type": "live.events", "events": [logged]})
        assert await socket.receive_nothing(timeout=QUIET)
        await edit(world["story"], world["alice"], "Online")
        assert (await next_event(socket))["seq"] == seq + 1
        await socket.disconnect()

    run(scenario)


def test_a_page_further_behind_than_the_buffer_is_told_to_reload(layer, world, settings):
    settings.LIVE_BUFFER = 3

    async def scenario():
        base = live.event_log().current(world["ws"].id)
        for i in range(5):
            await edit(world["story"], world["alice"], f"Edit {i}")
        socket = await open_socket(world["bob"])
        assert (await subscribe(socket, world["ws"], since=base + 1))["seq"] == base + 5
        assert await socket.receive_json_from(timeout=2) == {"type": "reload", "workspace": world["ws"].id}
        await socket.disconnect()
        # Within the buffer: the events themselves.
        socket = await open_socket(world["bob"])
        await subscribe(socket, world["ws"], since=base + 2)
        assert [(await next_event(socket))["seq"] for _ in range(3)] == [base + 3, base + 4, base + 5]
        await socket.disconnect()

    run(scenario)


def test_presence_lists_who_else_views_the_same_story_and_forgets_who_left(layer, world):
    topic = f"story:{world['story'].id}"

    async def scenario():
        alice, bob = await open_socket(world["alice"]), await open_socket(world["bob"])
        await subscribe(alice, world["ws"], tab=TAB_A)
        await subscribe(bob, world["ws"])
        await alice.send_json_to({"op": "presence", "workspace": world["ws"].id, "topic": topic})
        assert [p["name"] for p in (await alice.receive_json_from(timeout=2))["people"]] == ["Alice Archer"]
        await bob.send_json_to({"op": "presence", "workspace": world["ws"].id, "topic": topic})
        for socket in (alice, bob):
            message = await socket.receive_json_from(timeout=2)
            assert message["type"] == "presence" and message["topic"] == topic
            assert [(p["name"], p["initials"]) for p in message["people"]] == [("Alice Archer", "AA"), ("Bob Baker", "BB")]
        await bob.disconnect()
        message = await alice.receive_json_from(timeout=2)
        assert [p["name"] for p in message["people"]] == ["Alice Archer"]
        await alice.disconnect()

    run(scenario)


def test_presence_needs_a_subscribed_workspace(layer, world):
    async def scenario():
        socket = await open_socket(world["outsider"])
        await socket.send_json_to({"op": "presence", "workspace": world["ws"].id, "topic": "story:1"})
        assert (await socket.receive_json_from(timeout=2))["type"] == "error"
        await socket.disconnect()

    run(scenario)


def test_a_bulk_import_becomes_one_event_per_product(layer, world):
    async def scenario():
        socket = await open_socket(world["bob"])
        await subscribe(socket, world["ws"])
        rows = [{"title": f"Imported {i}"} for i in range(live.COALESCE_OVER + 5)]
        await database_sync_to_async(backlog.stories_bulk_create)(actor=world["alice"], product=world["product"],
                                                                   stories=rows)
        event = await next_event(socket)
        assert event["type"] == "story.created" and event["id"] is None and event["count"] == len(rows)
        assert event["topics"] == [f"product:{world['product'].id}"]
        assert await socket.receive_nothing(timeout=QUIET)
        await socket.disconnect()

    run(scenario)


# --- the full ASGI application: session sign-in and the Origin check -------------------------------
def _session_cookie(client, user):
    client.force_login(user)
    return client.cookies[django_settings.SESSION_COOKIE_NAME].value


# The in-memory layer only: the session and Origin checks sit in front of the layer, and with the
# Redis layer this test's event loop sometimes never finished closing (about one run in eight, in
# asyncio's cancellation of the leftover tasks; docs/live.md "Limits"). The Redis layer's delivery,
# tenancy and catch-up are tested above.
@pytest.mark.parametrize("layer", ["memory"], indirect=True)
def test_the_asgi_application_signs_in_with_the_session_and_checks_the_origin(layer, world, client):
    from pmhub.asgi import application

    cookie = _session_cookie(client, world["bob"])

    async def scenario():
        headers = [(b"cookie", f"{django_settings.SESSION_COOKIE_NAME}={cookie}".encode()),
                   (b"origin", b"http://127.0.0.1:8000")]
        socket = WebsocketCommunicator(application, "/ws/live/", headers=headers)
        assert (await socket.connect())[0]
        assert (await subscribe(socket, world["ws"]))["type"] == "subscribed"
        await socket.disconnect()

        foreign = WebsocketCommunicator(application, "/ws/live/", headers=[headers[0], (b"origin", b"https://evil.example")])
        assert not (await foreign.connect())[0]  # another site's page cannot borrow the session
        anonymous = WebsocketCommunicator(application, "/ws/live/", headers=[headers[1]])
        assert not (await anonymous.connect())[0]

    run(scenario)


# --- the polling fallback ---------------------------------------------------------------------------
def test_polling_serves_the_same_events_without_the_own_tab_and_refuses_outsiders(layer, world, client):
    base = live.event_log().current(world["ws"].id)
    _edit(world["story"], world["alice"], "By tab A", tab=TAB_A)
    _edit(world["story"], world["alice"], "By the API")
    url = f"/w/{world['ws'].slug}/live/poll/"

    client.force_login(world["alice"])
    answer = client.get(url, {"since": base}, HTTP_X_PMHUB_TAB=TAB_A).json()
    assert answer["seq"] == base + 2 and not answer["reload"]
    assert [(e["type"], e["seq"]) for e in answer["events"]] == [("story.updated", base + 2)]  # not tab A's own
    assert all("tab" not in e for e in answer["events"])
    assert client.get(url, {"since": base + 2}).json()["events"] == []
    assert client.get(url, {"since": base + 99}).json()["reload"] is True
    assert client.get(url, {"since": "x"}).status_code == 400
    assert client.get(url).json() == {"seq": base + 2, "reload": False, "events": []}  # where a new poller starts

    client.force_login(world["outsider"])
    assert client.get(url, {"since": 0}).status_code == 404


def test_every_page_of_a_workspace_carries_the_live_sequence_and_poll_address(world, client):
    _edit(world["story"], world["alice"], "Counted")
    client.force_login(world["bob"])
    html = client.get(f"/w/{world['ws'].slug}/").content.decode()
    assert f'data-live-ws="{world["ws"].id}"' in html
    assert f'data-live-seq="{live.event_log().current(world["ws"].id)}"' in html
    assert f'data-live-poll="/w/{world["ws"].slug}/live/poll/"' in html


def test_thin_events_of_every_payload_shape():
    assert live.event_thin(workspace_id=1, event="initiative.changed",
                           payload={"action": "moved", "initiative": {"id": 4, "product_id": 2, "version": 3}}) == {
        "type": "initiative.changed", "id": 4, "version": 3, "product": 2, "workspace": 1,
        "topics": ["product:2", "initiative:4"], "tab": ""}
    kpi = live.event_thin(workspace_id=1, event="kpi.health_changed", payload={"kpi": 7, "product": 2, "name": "X"})
    assert (kpi["id"], kpi["product"], kpi["topics"]) == (7, 2, ["product:2", "kpi:7"])
    scope = live.event_thin(workspace_id=1, event="release.scope_changed", payload={"release_id": 9, "product_id": 2})
    assert (scope["id"], scope["topics"]) == (9, ["product:2", "release:9"])
    lifecycle = live.event_thin(workspace_id=1, event="governance.lifecycle.changed", payload={"product_id": 2})
    assert lifecycle["topics"] == ["product:2"]
    assert live.event_thin(workspace_id=1, event="epic.created", payload={"id": 3, "title": "T"})["topics"] == ["epic:3"]


def test_an_event_arriving_during_the_catch_up_comes_after_it_once(layer, world, monkeypatch):
    """The hub holds back what it hands a socket while that socket is still sending what it missed:
    the page receives every event once, in sequence order."""
    base = live.event_log().current(world["ws"].id)
    _edit(world["story"], world["alice"], "Missed while offline")
    journal = live.event_log()
    original, gate = journal.asince, {}

    async def slow_read(ws, since):
        await gate["open"].wait()  # the log is read only after the next change was published
        return await original(ws, since)

    monkeypatch.setattr(journal, "asince", slow_read)

    async def scenario():
        import asyncio

        gate["open"] = asyncio.Event()
        socket = await open_socket(world["bob"])
        assert (await subscribe(socket, world["ws"], since=base))["seq"] == base + 1
        await edit(world["story"], world["alice"], "Published during the catch-up")
        await asyncio.sleep(0.2)  # the hub has it by now
        gate["open"].set()
        received = [await next_event(socket), await next_event(socket)]
        assert [e["seq"] for e in received] == [base + 1, base + 2]
        assert await socket.receive_nothing(timeout=QUIET)
        await socket.disconnect()

    run(scenario)


def test_a_comment_by_one_member_reaches_another_members_page_of_that_story(layer, world, client):
    """Through the ASGI application (session cookie, origin): Alice comments on the story page, Bob's
    socket hears `story.commented` on the topic his story page's comments region listens to, without
    the comment's text; then Alice ticks a criterion and Bob hears `story.criteria_changed`."""
    from django.test import Client
    from django.urls import reverse

    from pmhub.asgi import application

    cookie = _session_cookie(client, world["bob"])
    story, product = world["story"], world["product"]
    alice = Client()
    alice.force_login(world["alice"])
    kwargs = {"ws": world["ws"].slug, "product_id": product.id, "story_id": story.id}

    def comment():
        answer = alice.post(reverse("backlog:comment", kwargs=kwargs), {"body": "Ship it on Friday, @bob"},
                            HTTP_X_PMHUB_TAB=TAB_A)
        assert answer.status_code == 302

    def criterion():
        answer = alice.post(reverse("backlog:criterion_add", kwargs=kwargs), {"text": "Given a signup then a mail"},
                            HTTP_X_PMHUB_TAB=TAB_A)
        assert answer.status_code == 302

    async def scenario():
        headers = [(b"cookie", f"{django_settings.SESSION_COOKIE_NAME}={cookie}".encode()),
                   (b"origin", b"http://127.0.0.1:8000")]
        socket = WebsocketCommunicator(application, "/ws/live/", headers=headers)
        assert (await socket.connect())[0]
        assert (await subscribe(socket, world["ws"]))["type"] == "subscribed"
        await database_sync_to_async(comment)()
        event = await next_event(socket)
        assert event["type"] == "story.commented" and event["id"] == story.id
        assert f"story:{story.id}" in event["topics"] and event["product"] == product.id
        assert "Friday" not in json.dumps(event)
        await database_sync_to_async(criterion)()
        event = await next_event(socket)
        assert event["type"] == "story.criteria_changed" and f"story:{story.id}" in event["topics"]
        assert "signup" not in json.dumps(event)
        await socket.disconnect()

    run(scenario)


def test_writes_from_server_threads_reach_members_only_through_the_process_publishing_loop(layer, world):
    """A gunicorn thread has no event loop: its events go out on the process's one publishing loop
    (decision 1970), every write through the same loop, and still only to the workspace's members."""
    if layer != "redis":
        pytest.skip("the publishing loop serves the Redis layer; the in-memory one lives in its receivers' loop")
    import asyncio

    from django.db import connection

    from pmhub.models import Workspace

    def edit_in_a_plain_thread(title):
        try:
            _edit(world["story"], world["alice"], title)
            return live._publisher.loop()
        finally:
            connection.close()

    async def scenario():
        globex = await database_sync_to_async(Workspace.objects.get)(slug="globex")
        outsider = await open_socket(world["outsider"])  # a member of another workspace, subscribed to it
        assert (await subscribe(outsider, globex))["type"] == "subscribed"
        member = await open_socket(world["bob"])
        assert (await subscribe(member, world["ws"]))["type"] == "subscribed"
        loops = set()
        for i in range(3):
            loops.add(await asyncio.to_thread(edit_in_a_plain_thread, f"From a server thread {i}"))
            assert (await next_event(member))["type"] == "story.updated"
        assert len(loops) == 1 and next(iter(loops)).is_running()
        assert await outsider.receive_nothing(timeout=QUIET)
        await member.disconnect()
        await outsider.disconnect()

    run(scenario)


def test_posted_sends_leave_in_order_without_the_writer_waiting_and_a_failure_stops_nothing(settings, caplog):
    """The events of a write are queued on the publishing loop (decision 2023): the writer does
    not wait, sends leave in the order queued (a waited-for send included), and a send that fails
    is logged while the ones after it still go out."""
    if not django_settings.LIVE_REDIS_URL:
        pytest.skip("REDIS_URL is not set")
    import logging

    from channels.layers import get_channel_layer

    settings.CHANNEL_LAYERS = {"default": {**django_settings.CHANNEL_LAYERS["default"]}}
    layer = get_channel_layer()
    group = f"live-order-test-{os.getpid()}"

    async def subscribe_channel():
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        return channel

    channel = async_to_sync(subscribe_channel)()
    with caplog.at_level(logging.ERROR, logger="pmhub.live"):
        for i in range(5):
            live._group_send(layer, group, {"type": "live.events", "n": i}, wait=False)
        live._group_send(layer, "not a valid group name!", {"type": "live.events", "n": -1}, wait=False)
        live._group_send(layer, group, {"type": "live.events", "n": 5})  # waits: everything before has gone
        live._publisher.flush()

    async def received():
        return [(await layer.receive(channel))["n"] for _ in range(6)]

    assert async_to_sync(received)() == [0, 1, 2, 3, 4, 5]
    assert any("could not be sent" in r.getMessage() for r in caplog.records)
    async_to_sync(layer.group_discard)(group, channel)


def test_a_workspace_without_open_pages_is_numbered_but_not_sent_to(settings, monkeypatch):
    """Decision 2300: the numbering's script also counts the members of the workspace's group (the
    live processes' hubs); with none, the events are in the log and nothing goes to the channel
    layer. With a member the send goes as before; a member the layer would discard as expired
    counts as none."""
    if not django_settings.LIVE_REDIS_URL:
        pytest.skip("REDIS_URL is not set")
    import time

    import redis
    from channels.layers import get_channel_layer

    settings.CHANNEL_LAYERS = {"default": {**django_settings.CHANNEL_LAYERS["default"]}}
    layer = get_channel_layer()
    ws_id = 900_000_000 + os.getpid()  # a workspace no other test publishes to
    group = live.ws_group(ws_id)
    sent = []
    real_send = live._group_send
    monkeypatch.setattr(live, "_group_send", lambda layer, group, message, wait=True: (
        sent.append(group), real_send(layer, group, message, wait)))
    event = {"type": "story.updated", "id": 1, "version": 2, "product": 3, "workspace": ws_id}

    before = live.event_log().current(ws_id)
    seqs = live.live_publish(workspace_id=ws_id, events=[event, event])
    assert seqs == [before + 1, before + 2]
    assert sent == []
    assert [e["seq"] for e in live.event_log().since(ws_id, before)] == seqs

    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(group, channel)
    try:
        seqs = live.live_publish(workspace_id=ws_id, events=[event])
        assert sent == [group]
        message = async_to_sync(layer.receive)(channel)
        assert [e["seq"] for e in message["events"]] == seqs

        expired = time.time() - layer.group_expiry - 5
        redis.Redis.from_url(django_settings.LIVE_REDIS_URL).zadd(layer._group_key(group), {channel: expired})
        sent.clear()
        live.live_publish(workspace_id=ws_id, events=[event])
        assert sent == []
    finally:
        async_to_sync(layer.group_discard)(group, channel)
        live._publisher.flush()


def test_the_group_is_counted_only_on_the_event_logs_own_redis_database(settings):
    """Another database or another layer: no count, every event is sent (decision 2300)."""
    if not django_settings.LIVE_REDIS_URL:
        pytest.skip("REDIS_URL is not set")
    from channels.layers import get_channel_layer

    config = django_settings.CHANNEL_LAYERS["default"]["CONFIG"]
    journal = live.event_log()
    settings.CHANNEL_LAYERS = {"default": {**django_settings.CHANNEL_LAYERS["default"]}}
    assert live._group_watch(get_channel_layer(), journal, "live.ws.1") is not None
    other = {**config["hosts"][0], "address": django_settings.LIVE_REDIS_URL.rsplit("/", 1)[0] + "/15"}
    settings.CHANNEL_LAYERS = {"default": {**django_settings.CHANNEL_LAYERS["default"],
                                           "CONFIG": {**config, "hosts": [other]}}}
    assert live._group_watch(get_channel_layer(), journal, "live.ws.1") is None
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    assert live._group_watch(get_channel_layer(), journal, "live.ws.1") is None


def test_a_requests_live_sends_leave_when_its_response_is_closed_in_order(settings, monkeypatch, rf):
    """Decision 2303: inside a request the posted sends are held; they are queued when the response
    is closed (after the server wrote it), or at once if the view fails; a waited send queues the
    held ones first. Outside a request nothing is held."""
    if not django_settings.LIVE_REDIS_URL:
        pytest.skip("REDIS_URL is not set")
    from channels.layers import get_channel_layer
    from django.http import HttpResponse

    from pmhub.middleware import LiveTabMiddleware

    settings.CHANNEL_LAYERS = {"default": {**django_settings.CHANNEL_LAYERS["default"]}}
    layer = get_channel_layer()
    calls = []
    monkeypatch.setattr(live._publisher, "post", lambda layer, group, message: calls.append(("post", message["n"])))
    monkeypatch.setattr(live._publisher, "send", lambda layer, group, message: calls.append(("send", message["n"])))

    def view(request):
        live._group_send(layer, "live.ws.1", {"type": "live.events", "n": 1}, wait=False)
        live._group_send(layer, "live.ws.1", {"type": "live.events", "n": 2}, wait=False)
        assert calls == []  # held while the view runs
        return HttpResponse("ok")

    response = LiveTabMiddleware(view)(rf.post("/"))
    assert calls == []  # still held: the response has not been written
    response.close()
    assert calls == [("post", 1), ("post", 2)]

    calls.clear()

    def revoking_view(request):
        live._group_send(layer, "live.ws.1", {"type": "live.events", "n": 3}, wait=False)
        live._group_send(layer, "live.ws.1", {"type": "live.revoke", "n": 4})  # waits: after 3
        return HttpResponse("ok")

    LiveTabMiddleware(revoking_view)(rf.post("/")).close()
    assert calls == [("post", 3), ("send", 4)]

    calls.clear()

    def failing_view(request):
        live._group_send(layer, "live.ws.1", {"type": "live.events", "n": 5}, wait=False)
        raise RuntimeError("after the commit")

    with pytest.raises(RuntimeError):
        LiveTabMiddleware(failing_view)(rf.post("/"))
    assert calls == [("post", 5)]

    calls.clear()
    live._group_send(layer, "live.ws.1", {"type": "live.events", "n": 6}, wait=False)
    assert calls == [("post", 6)]
