"""Live updates in two real browser contexts (two people) against an ASGI server: one person drags
a story and the other sees it move; a removed member stops seeing changes; a page whose websocket
cannot open polls instead and says so; a form that someone else just saved warns before saving.

pytest-django's live_server is WSGI (no websockets), so the pages are served here by uvicorn in a
thread of the test process, against the test database and the Redis channel layer."""

import socket
import threading
import time

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from backlog import services as backlog
from pmhub import services as core
from pmhub.models import Membership, Role
from roadmaps.models import Product
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
from tests.services import require

from .drag import drag_story_above

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
LIVE_WITHIN_MS = 2000  # the promise: another person's change shows within two seconds


@pytest.fixture
def asgi_server(transactional_db):
    require(bool(settings.LIVE_REDIS_URL), "Redis (REDIS_URL) for the channel layer")
    import uvicorn
    from channels.layers import DEFAULT_CHANNEL_LAYER, channel_layers

    from pmhub.asgi import application

    # A Redis channel layer receives on one event loop at a time and lets go of it only when its
    # last receive has ended. Each test's server runs a loop of its own; a receive of the previous
    # server still pending (its thread not yet gone) would refuse this one's ("Two event loops are
    # trying to receive() on one channel layer at once!"). Each server gets a layer of its own.
    channel_layers.backends.pop(DEFAULT_CHANNEL_LAYER, None)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off", ws="websockets-sansio",
                                           # the test's pages may keep their sockets open: the
                                           # server closes them at exit instead of waiting on them
                                           timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)
    channel_layers.backends.pop(DEFAULT_CHANNEL_LAYER, None)


@pytest.fixture
def team(db):
    ws = WorkspaceFactory(name="Acme", slug="acme")
    admin = UserFactory(email="ada@acme.test", name="Ada Admin")
    alice = UserFactory(email="alice@acme.test", name="Alice Archer")
    bob = UserFactory(email="bob@acme.test", name="Bob Baker")
    MembershipFactory(user=admin, workspace=ws, role=Role.ADMIN)
    MembershipFactory(user=alice, workspace=ws, role=Role.EDITOR)
    MembershipFactory(user=bob, workspace=ws, role=Role.VIEWER)
    product = Product.objects.create(workspace=ws, name="Analytics")
    stories = backlog.stories_bulk_create(actor=alice, product=product,
                                          stories=[{"title": f"Story {i}"} for i in range(1, 5)])
    return {"ws": ws, "admin": admin, "alice": alice, "bob": bob, "product": product, "stories": stories}


def person(browser, base, user):
    """A browser context signed in as `user` (the session cookie of a real sign-in)."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                          "url": base}])
    return context.new_page()


def titles(page):
    return page.get_by_test_id("story-title").all_inner_texts()


@pytest.mark.drag
def test_a_dragged_story_moves_for_the_other_person_until_they_are_removed(browser, asgi_server, team):
    s = team["stories"]
    url = f"{asgi_server}/w/acme/products/{team['product'].id}/backlog/"
    alice, bob = person(browser, asgi_server, team["alice"]), person(browser, asgi_server, team["bob"])
    for page in (alice, bob):
        page.goto(url)
        expect(page.locator("body")).to_have_attribute("data-live-state", "socket")
    # Presence: each sees the other's face in the header.
    expect(bob.get_by_test_id("presence")).to_contain_text("AA")
    expect(alice.get_by_test_id("presence")).to_contain_text("BB")

    drag_story_above(alice, s[3].id, s[0].id)
    started = time.monotonic()
    expect(bob.get_by_test_id("story-title").first).to_have_text("Story 4", timeout=LIVE_WITHIN_MS)
    moved_within = time.monotonic() - started
    assert titles(bob) == ["Story 4", "Story 1", "Story 2", "Story 3"]
    expect(bob.locator(f"#story-{s[3].id}")).to_have_class("story-row live-flash")
    assert titles(alice) == ["Story 4", "Story 1", "Story 2", "Story 3"]  # her own order, not refetched
    print(f"\nlive: the drag showed in the other browser after {moved_within * 1000:.0f} ms")

    # An edited title changes and a new story appears, made elsewhere (the API, another page).
    backlog.story_update(actor=team["alice"], story=s[1], data={"title": "Story 2, renamed"}, version=s[1].version)
    backlog.story_create(actor=team["alice"], product=team["product"], title="Story 5")
    expect(bob.get_by_test_id("story-title")).to_have_text(
        ["Story 4", "Story 1", "Story 2, renamed", "Story 3", "Story 5"], timeout=LIVE_WITHIN_MS)

    # Bob is removed from the workspace: his page says so and stops following changes.
    core.membership_remove(user=team["admin"], membership=Membership.objects.get(user=team["bob"]))
    expect(bob.locator("[data-live-status]")).to_have_text(
        "You no longer have access to this workspace: live updates stopped.", timeout=LIVE_WITHIN_MS)
    drag_story_above(alice, s[2].id, s[3].id)
    bob.wait_for_timeout(1000)
    assert titles(bob) == ["Story 4", "Story 1", "Story 2, renamed", "Story 3", "Story 5"]
    assert titles(alice)[0] == "Story 3"


def test_without_websockets_the_page_polls_and_a_stale_form_warns(browser, asgi_server, team):
    story = team["stories"][0]
    url = f"{asgi_server}/w/acme/products/{team['product'].id}/backlog/stories/{story.id}/"
    alice, bob = person(browser, asgi_server, team["alice"]), person(browser, asgi_server, team["admin"])
    # The second person's proxy drops websocket upgrades.
    bob.route("**/ws/live/", lambda route: route.abort())
    bob.context.route("**/ws/live/", lambda route: route.abort())
    bob.add_init_script("window.WebSocket = function () { throw new Error('blocked by the proxy'); };")
    bob.goto(url)
    expect(bob.locator("[data-live-status]")).to_have_text("Live updates: polling")
    alice.goto(url)

    alice.get_by_label("Title").fill("First, sharper")
    alice.get_by_role("button", name="Save story").click()
    expect(alice.get_by_text("Story saved.")).to_be_visible()
    # The polling page updates its heading and tells the person editing the form to reload.
    expect(bob.get_by_test_id("story-heading")).to_have_text("First, sharper", timeout=LIVE_WITHIN_MS + 2500)
    expect(bob.get_by_text("Someone else saved this a moment ago — reload before saving.")).to_be_visible()
    expect(alice.get_by_text("Someone else saved this a moment ago")).to_have_count(0)

    # Someone else's comment appears in the list while the comment being typed stays as typed.
    bob.get_by_label("Comment").fill("Half-written thought")
    backlog.comment_create(actor=team["alice"], story=story, body="Ship it on Friday")
    expect(bob.get_by_test_id("comments")).to_contain_text("Ship it on Friday", timeout=LIVE_WITHIN_MS + 2500)
    expect(bob.get_by_label("Comment")).to_have_value("Half-written thought")


def test_two_refreshes_sharing_one_answer_both_keep_the_rows(browser, asgi_server, team):
    """Regions refreshed by one burst share one request; each refresh takes its own copy of the
    answer, so a second refresh of the same region does not find the first one's nodes gone and
    empty the region (seen on the roadmap board when events were pending)."""
    first, second = team["stories"][0], team["stories"][1]
    url = f"{asgi_server}/w/acme/products/{team['product'].id}/backlog/"
    bob = person(browser, asgi_server, team["bob"])
    # The refresh request answers a second late, so the second event's refresh joins the first's.
    bob.add_init_script("""(() => {
      const fetch = window.fetch;
      window.fetch = (url, options) => (options && options.headers && options.headers["X-PMHub-Live"])
        ? new Promise((resolve) => setTimeout(resolve, 1000)).then(() => fetch(url, options))
        : fetch(url, options);
    })();""")
    bob.goto(url)
    expect(bob.locator("body")).to_have_attribute("data-live-state", "socket")

    backlog.story_update(actor=team["alice"], story=first, data={"title": "Story 1, renamed"}, version=first.version)
    bob.wait_for_timeout(400)  # past the first refresh's start (120 ms), well before its answer (1 s)
    backlog.story_update(actor=team["alice"], story=second, data={"title": "Story 2, renamed"}, version=second.version)
    expect(bob.get_by_test_id("story-title")).to_have_text(
        ["Story 1, renamed", "Story 2, renamed", "Story 3", "Story 4"], timeout=LIVE_WITHIN_MS + 2000)
    bob.wait_for_timeout(500)  # both refreshes have applied the one answer
    assert titles(bob) == ["Story 1, renamed", "Story 2, renamed", "Story 3", "Story 4"]
