"""The status board in a real Chromium: drag a card to another column, or choose a status in a
card's menu with the keyboard; both change the story in the database through the one status
endpoint. A stale card returns to its column with the reason said. No sideways page overflow at
390 px: the columns scroll inside their own container."""

import pytest
from playwright.sync_api import expect

from backlog import services
from backlog.models import Story
from roadmaps.models import Product
from tests.backlog.factories import make_stories

from .test_roadmaps_drag import _drag

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

OVERFLOW_JS = "() => document.documentElement.scrollWidth - window.innerWidth"


@pytest.fixture
def board(workspace, editor, live_server):
    product = Product.objects.create(workspace=workspace, name="Acme Analytics")
    epic = services.epic_create(actor=editor, product=product, title="Checkout")
    make_stories(product, 4, actor=editor, points=3, epic_id=epic.id, assignee_id=editor.id)
    services.stories_bulk_create(actor=editor, product=product, stories=[
        {"title": f"Started {x}", "status": "in_progress", "points": 5} for x in "AB"])
    return product, f"{live_server.url}/w/acme/products/{product.pk}/backlog/board/"


@pytest.mark.drag
def test_drag_a_card_to_another_column_changes_its_status(page, sign_in, editor, board, screenshot_path):
    product, url = board
    sign_in(page, editor)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(url)
    story = Story.objects.get(product=product, title="Story 1")
    card = page.get_by_test_id(f"card-{story.id}")
    target = page.get_by_test_id("column-in_review").locator(".bd-cards")

    def into_in_review():
        box = target.bounding_box()
        return box["x"] + box["width"] / 2, box["y"] + 20

    saved = page.locator(f'[data-testid="card-{story.id}"][data-saved=true]')
    for attempt in range(2):  # a drag lost before SortableJS picks it up is retried once, as a person would
        _drag(page, card.locator(".bd-card-meta"), into_in_review)
        try:
            expect(saved).to_have_count(1, timeout=5_000)
            break
        except AssertionError:
            if attempt:
                raise
    story.refresh_from_db()
    assert (story.status, story.version) == ("in_review", 2)
    expect(page.get_by_test_id("column-in_review")).to_contain_text("Story 1")
    expect(page.locator("[data-announcer]")).to_contain_text("moved to In review")
    expect(page.get_by_test_id("column-in_review").locator(".badge")).to_have_text("1")
    expect(page.get_by_test_id("column-in_review").locator(".bd-points")).to_have_text("3 pts")
    expect(page.get_by_test_id("column-in_review").locator(".bd-empty")).to_be_hidden()
    expect(page.get_by_test_id("column-idea").locator(".bd-points")).to_have_text("9 pts")
    assert page.evaluate(OVERFLOW_JS) <= 0
    page.screenshot(path=screenshot_path("status-board-1440.png"), full_page=True)


def test_keyboard_status_menu_on_a_phone_and_a_stale_card_returns(page, sign_in, editor, board, screenshot_path):
    product, url = board
    sign_in(page, editor)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(url)
    assert page.evaluate(OVERFLOW_JS) <= 0  # the columns scroll inside .bd-scroll, not the page
    story = Story.objects.get(product=product, title="Story 2")
    menu = page.get_by_label("Status of “Story 2”")
    menu.focus()
    menu.select_option(label="Done")
    expect(page.locator(f'[data-testid="card-{story.id}"][data-saved=true]')).to_have_count(1)
    story.refresh_from_db()
    assert story.status == "done" and story.done_at is not None
    expect(page.get_by_test_id("column-done")).to_contain_text("Story 2")
    page.screenshot(path=screenshot_path("status-board-390.png"), full_page=True)

    # Two changes in quick succession (arrowing through the menu): the second names the version
    # the first produced, so both land.
    quick = Story.objects.get(product=product, title="Story 4")
    quick_menu = page.get_by_label("Status of “Story 4”")
    quick_menu.select_option(label="Ready")
    quick_menu.select_option(label="In progress")
    expect(page.get_by_test_id("column-in_progress")).to_contain_text("Story 4")
    expect(page.locator("[data-announcer]")).to_contain_text("“Story 4” moved to In progress")
    quick.refresh_from_db()
    assert (quick.status, quick.version) == ("in_progress", 3)

    # Someone else changes Story 3 behind this page: the page's move is refused and undone.
    stale = Story.objects.get(product=product, title="Story 3")
    services.story_status_set(actor=editor, story=stale, status="ready", version=stale.version)
    page.get_by_label("Status of “Story 3”").select_option(label="In progress")
    expect(page.locator("[data-announcer] [role=alert]")).to_contain_text("Someone else changed “Story 3”")
    expect(page.get_by_test_id("column-idea")).to_contain_text("Story 3")
    expect(page.get_by_label("Status of “Story 3”")).to_have_value("idea")
    stale.refresh_from_db()
    assert stale.status == "ready"
