"""A PM drags a story to the top, then changes a scoring input and sees the score order change;
both survive a reload. In a real Chromium against live_server."""

import pytest
from playwright.sync_api import expect

from backlog import services
from pmhub.models import Role
from roadmaps.models import Product
from tests.factories import MembershipFactory, UserFactory

from .drag import drag_story_above

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

RICE = {"reach": 100, "impact": 1, "confidence": 100, "effort": 1}


def titles(page):
    return page.get_by_test_id("story-title").all_inner_texts()


@pytest.mark.drag
def test_drag_to_reorder_and_rescore(page, live_server, sign_in, screenshot_path):
    user = UserFactory(email="pm@acme.test", name="Priya PM")
    membership = MembershipFactory(user=user, role=Role.ADMIN, workspace__slug="acme", workspace__name="Acme")
    product = Product.objects.create(workspace=membership.workspace, name="Acme Analytics")
    epic = services.epic_create(actor=user, product=product, title="Onboarding")
    stories = services.stories_bulk_create(actor=user, product=product, stories=[
        {"title": f"Story {i}", "epic_id": epic.id, "points": i, "labels": ["ux"] if i % 2 else [],
         "score_inputs": {**RICE, "reach": 100 * i}} for i in range(1, 6)])
    base = f"{live_server.url}/w/acme/products/{product.id}/backlog/"
    sign_in(page, user)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(base)
    assert titles(page) == [f"Story {i}" for i in range(1, 6)]

    # Drag "Story 4" by its handle above "Story 1".
    drag_story_above(page, stories[3].id, stories[0].id)
    assert titles(page)[0] == "Story 4"
    page.reload()
    assert titles(page) == ["Story 4", "Story 1", "Story 2", "Story 3", "Story 5"]
    page.screenshot(path=screenshot_path("backlog.png"), full_page=True)

    # Sorted by score: Story 5 (reach 500) leads; raise Story 2's reach to 900 and it takes the lead.
    page.goto(base + "?sort=-score")
    assert titles(page)[0] == "Story 5"
    page.get_by_role("link", name="Story 2").click()
    page.get_by_test_id("input-reach").fill("900")
    page.get_by_role("button", name="Save story").click()
    expect(page.get_by_text("Story saved.")).to_be_visible()
    expect(page.get_by_test_id("score-explanation")).to_contain_text("900")
    page.goto(base + "?sort=-score")
    assert titles(page)[:2] == ["Story 2", "Story 5"]
    page.reload()
    assert titles(page)[:2] == ["Story 2", "Story 5"]
    expect(page.locator(f"#story-{stories[1].id} [data-testid=story-score]")).to_have_text("900")

    # What if points counted too? Preview a weighted model: nothing is saved.
    page.get_by_role("link", name="Scoring").click()
    page.locator("#framework").select_option("weighted")
    page.get_by_label("Criterion key 1").fill("reach")
    page.get_by_test_id("what-if").click()
    expect(page.get_by_test_id("what-if-table")).to_contain_text("Story 2")
    page.screenshot(path=screenshot_path("backlog-scoring.png"), full_page=True)


def test_keyboard_move_with_alt_arrow(page, live_server, sign_in):
    user = UserFactory(email="kb@acme.test")
    membership = MembershipFactory(user=user, role=Role.EDITOR, workspace__slug="acme", workspace__name="Acme")
    product = Product.objects.create(workspace=membership.workspace, name="P")
    services.stories_bulk_create(actor=user, product=product, stories=[{"title": f"Story {i}"} for i in range(1, 4)])
    sign_in(page, user)
    page.goto(f"{live_server.url}/w/acme/products/{product.id}/backlog/")
    page.locator("main").focus()
    page.keyboard.press("j")  # focus the first story
    with page.expect_response(lambda r: "/move/" in r.url):
        page.keyboard.press("Alt+ArrowDown")
    page.reload()
    assert titles(page) == ["Story 2", "Story 1", "Story 3"]

    # "e" opens the inline editor of the focused story; saving swaps the row back in place.
    page.keyboard.press("j")
    page.keyboard.press("e")
    title = page.locator("tr.editing input[name=title]")
    expect(title).to_be_focused()
    title.fill("Story 2 renamed")
    page.locator("tr.editing").get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("story-title").first).to_have_text("Story 2 renamed")


@pytest.mark.drag
def test_drag_within_and_across_a_chunk_loaded_on_scroll(page, live_server, sign_in):
    """Issue 23, target 3: the backlog renders its first 50 rows and loads the next ones as the
    list scrolls (hx-trigger="revealed"); the rows that arrive later are ranked by dragging like
    the first ones, within their chunk and across into the first one."""
    from backlog.models import Story
    from backlog.views import PAGE_SIZE

    user = UserFactory(email="pm@acme.test", name="Priya PM")
    membership = MembershipFactory(user=user, role=Role.ADMIN, workspace__slug="acme", workspace__name="Acme")
    product = Product.objects.create(workspace=membership.workspace, name="Acme Analytics")
    stories = services.stories_bulk_create(actor=user, product=product, stories=[
        {"title": f"Story {i}"} for i in range(1, PAGE_SIZE + 11)])
    sign_in(page, user)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/w/acme/products/{product.id}/backlog/")
    expect(page.get_by_test_id("story-row")).to_have_count(PAGE_SIZE)
    page.get_by_test_id("load-more").scroll_into_view_if_needed()
    expect(page.get_by_test_id("story-row")).to_have_count(PAGE_SIZE + 10)
    expect(page.get_by_test_id("load-more")).to_have_count(0)

    later = stories[PAGE_SIZE:]  # Story 51 .. Story 60, the chunk loaded on scroll
    page.locator(f"#story-{later[8].id}").scroll_into_view_if_needed()
    drag_story_above(page, later[8].id, later[2].id)  # Story 59 above Story 53
    drag_story_above(page, later[0].id, stories[PAGE_SIZE - 3].id)  # Story 51 above Story 48, across chunks

    ranked = list(Story.objects.filter(product=product).order_by("rank").values_list("title", flat=True))
    expected = ([f"Story {i}" for i in range(1, PAGE_SIZE - 2)] + ["Story 51", "Story 48", "Story 49", "Story 50",
                "Story 52", "Story 59", "Story 53"] + [f"Story {i}" for i in range(54, 59)] + ["Story 60"])
    assert ranked == expected
    assert titles(page) == expected  # the page shows what was saved
    page.reload()
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")  # the next chunk comes as it is revealed
    expect(page.get_by_test_id("story-row")).to_have_count(PAGE_SIZE + 10)
    assert titles(page) == expected
