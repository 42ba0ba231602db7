"""Drag and drop on the roadmap in a real Chromium: a card across the Now/Next/Later board and a
bar along the timeline; both changes are saved and survive a reload."""

import pytest
from playwright.sync_api import expect

from roadmaps import demo
from roadmaps.models import Initiative, Product

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_product(workspace, editor):
    demo.seed(workspace=workspace, users={"demo": editor, "pm": editor, "eng": editor})
    return Product.objects.get(workspace=workspace, name="Acme Analytics")


def _drag(page, source, target):
    """Drag as a hand does: press, nudge, then move a little at a time with short pauses (so
    SortableJS's drag start and swap animation keep up on a busy machine), rest, release.
    `target()` gives the drop point, measured after the source was scrolled into view (measured
    before, a scroll moved the drop point off the column: the drag missed)."""
    page.wait_for_load_state("networkidle")  # styles and scripts in place: nothing shifts under the mouse
    source.scroll_into_view_if_needed()
    target_box_x, target_box_y = target()
    box = source.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 5, y + 5, steps=3)
    page.wait_for_timeout(60)
    steps = 20
    for i in range(1, steps + 1):
        page.mouse.move(x + (target_box_x - x) * i / steps, y + (target_box_y - y) * i / steps)
        page.wait_for_timeout(25)
    page.wait_for_timeout(250)
    page.mouse.up()


@pytest.mark.drag
def test_drag_card_between_board_columns_persists(page, live_server, sign_in, editor, demo_product,
                                                  screenshot_path):
    sign_in(page, editor)
    page.set_viewport_size({"width": 1280, "height": 900})
    url = f"{live_server.url}/w/acme/products/{demo_product.pk}/roadmap/board/"
    page.goto(url)
    card = page.locator(".rm-card", has_text="Slack digests")
    expect(page.get_by_test_id("column-next")).to_contain_text("Slack digests")
    saved = page.locator(".rm-card[data-saved=true]", has_text="Slack digests")

    def below_the_last_later_card():
        # Inside the viewport: the column's own bottom edge can lie below it, where a drop is lost.
        last = page.get_by_test_id("column-later").locator(".rm-card").last.bounding_box()
        return last["x"] + last["width"] / 2, last["y"] + last["height"] * 0.8

    # On a busy machine a drag can still be lost before SortableJS picks the card up (nothing
    # moves); a person would drag again, and so does the test (once). Asserted: the drop persists.
    for attempt in range(2):
        _drag(page, card.locator(".rm-card-title"), below_the_last_later_card)
        try:
            expect(saved).to_have_count(1, timeout=5_000)
            break
        except AssertionError:
            if attempt or "Slack digests" not in page.get_by_test_id("column-next").inner_text():
                raise
    page.reload()
    expect(page.get_by_test_id("column-later")).to_contain_text("Slack digests")
    assert Initiative.objects.get(title="Slack digests").horizon == "later"
    page.screenshot(path=screenshot_path("roadmaps-board.png"), full_page=True)


@pytest.mark.drag
def test_drag_timeline_bar_changes_dates_and_persists(page, live_server, sign_in, editor, demo_product,
                                                      screenshot_path):
    sign_in(page, editor)
    page.set_viewport_size({"width": 1280, "height": 900})
    before = Initiative.objects.get(title="Lineage view")
    page.goto(f"{live_server.url}/w/acme/products/{demo_product.pk}/roadmap/timeline/")
    bar = page.locator(f'.rm-bar[data-id="{before.pk}"]')

    def to_the_right():
        box = bar.bounding_box()
        return box["x"] + box["width"] / 2 + 120, box["y"] + box["height"] / 2

    _drag(page, bar, to_the_right)
    expect(page.locator(f'.rm-bar[data-id="{before.pk}"][data-saved=true]')).to_have_count(1)
    page.reload()
    after = Initiative.objects.get(pk=before.pk)
    assert after.start_date > before.start_date
    assert (after.end_date - after.start_date) == (before.end_date - before.start_date)
    expect(page.locator(f'.rm-bar[data-id="{before.pk}"]')).to_have_attribute(
        "data-start", after.start_date.isoformat())
    expect(page.locator(".rm-conflict").first).to_be_visible()
    page.screenshot(path=screenshot_path("roadmaps-timeline.png"), full_page=True)


@pytest.mark.drag
def test_a_refused_timeline_move_is_announced_and_the_bar_goes_back(page, live_server, sign_in, editor,
                                                                    demo_product):
    """The save goes through PMHub.fetch: a stale version (someone else changed the initiative)
    is a 409 said in the live region, never an alert(); the bar returns to its place."""
    sign_in(page, editor)
    page.set_viewport_size({"width": 1280, "height": 900})
    before = Initiative.objects.get(title="Lineage view")
    page.goto(f"{live_server.url}/w/acme/products/{demo_product.pk}/roadmap/timeline/")
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    bar = page.locator(f'.rm-bar[data-id="{before.pk}"]')
    left = bar.evaluate("b => b.style.left")
    Initiative.objects.filter(pk=before.pk).update(version=before.version + 1)  # someone else saved it

    def to_the_right():
        box = bar.bounding_box()
        return box["x"] + box["width"] / 2 + 120, box["y"] + box["height"] / 2

    _drag(page, bar, to_the_right)
    error = page.locator("[data-announcer] .message-error")
    expect(error).to_contain_text("“Lineage view” was not moved: Someone else changed this")
    assert bar.evaluate("b => b.style.left") == left and not dialogs
    assert Initiative.objects.get(pk=before.pk).start_date == before.start_date


def test_keyboard_move_on_narrow_screen(page, live_server, sign_in, editor, demo_product):
    sign_in(page, editor)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/w/acme/products/{demo_product.pk}/roadmap/board/")
    select = page.get_by_label("Move “Template gallery” to")
    select.focus()
    select.select_option("next")
    select.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("column-next")).to_contain_text("Template gallery")
    assert page.evaluate("document.documentElement.scrollWidth") <= 400


@pytest.mark.drag
def test_long_board_column_shows_more_and_a_drop_after_the_last_card_shown_ranks_before_the_rest(
        page, live_server, sign_in, editor, workspace):
    from roadmaps.views import BOARD_COLUMN_CARDS

    product = Product.objects.create(workspace=workspace, name="Long board")

    later = Initiative.objects.bulk_create(
        Initiative(product=product, title=f"Later {i:02d}", horizon="later", rank=10 * i) for i in range(25))
    Initiative.objects.create(product=product, title="Mover", horizon="now", rank=1)
    sign_in(page, editor)
    page.set_viewport_size({"width": 1280, "height": 5000})  # the 20th card of a column in view
    page.goto(f"{live_server.url}/w/{product.workspace.slug}/products/{product.pk}/roadmap/board/")
    column = page.get_by_test_id("column-later")
    expect(column.locator(".rm-card")).to_have_count(BOARD_COLUMN_CARDS)
    card = page.locator(".rm-card", has_text="Mover")

    def below_the_last_card_shown():
        # The card being dragged takes its place in the list on the way: aim below the last card by
        # the dragged card's height, which is where the last card's lower edge is by then.
        last, moving = column.locator(".rm-card").last.bounding_box(), card.bounding_box()
        return last["x"] + last["width"] / 2, last["y"] + last["height"] + moving["height"] * 0.6

    for attempt in range(2):
        _drag(page, card.locator(".rm-card-title"), below_the_last_card_shown)
        try:
            expect(page.locator(".rm-card[data-saved=true]", has_text="Mover")).to_have_count(1, timeout=5_000)
            break
        except AssertionError:
            if attempt:
                raise
    mover = Initiative.objects.get(title="Mover")
    assert mover.horizon == "later"
    # Between the last card shown and the first one not shown, as with every card on the page.
    assert later[BOARD_COLUMN_CARDS - 1].rank < mover.rank < later[BOARD_COLUMN_CARDS].rank
    page.get_by_test_id("more-later").click()
    expect(column.locator(".rm-card")).to_have_count(26)
    expect(page.get_by_test_id("more-later")).to_have_count(0)
    titles = column.locator(".rm-card-title").all_inner_texts()
    assert titles.index("Mover") == BOARD_COLUMN_CARDS and titles[-1] == "Later 24"
