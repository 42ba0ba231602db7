"""The header search and the Ctrl/Cmd+K palette in a real Chromium, at desktop and phone widths."""

import pytest
from playwright.sync_api import expect

from pmhub.models import Role
from tests.delivery.factories import EpicFactory, StoryFactory
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
from tests.roadmaps.factories import ProductFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width, height", [(1440, 900), (390, 844)])
def test_ctrl_k_type_arrow_enter_opens_the_second_hit(page, live_server, sign_in, screenshot_path, width, height):
    user = UserFactory(email="pat@example.com", name="Pat")
    workspace = WorkspaceFactory(name="Acme", slug="acme")
    MembershipFactory(user=user, workspace=workspace, role=Role.VIEWER)
    product = ProductFactory(workspace=workspace, name="Mobile app")
    StoryFactory(product=product, title="Checkout with Apple Pay")
    epic = EpicFactory(product=product, title="Checkout redesign", description="A faster checkout.")
    StoryFactory(product=ProductFactory(workspace=WorkspaceFactory(slug="globex")), title="Checkout elsewhere")
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, user)

    page.keyboard.press("Control+k")
    box = page.get_by_role("combobox")
    expect(box).to_be_focused()
    page.keyboard.type("checkou")
    options = page.get_by_role("option")
    expect(options).to_have_count(3)  # the epic, the story, "see all"; never the other workspace's
    expect(page.get_by_role("listbox")).not_to_contain_text("elsewhere")
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", "search-option-0")
    page.keyboard.press("ArrowDown")
    expect(box).to_have_attribute("aria-activedescendant", "search-option-1")
    page.keyboard.press("ArrowUp")
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=screenshot_path(f"search-palette-{width}.png"))

    first = options.nth(0).get_attribute("data-url")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{first}")
    assert first in (f"/w/acme/products/{product.id}/epics/{epic.id}/",
                     f"/w/acme/products/{product.id}/backlog/stories/{product.stories.get().id}/")


def test_escape_closes_and_the_header_box_leads_to_the_page(page, live_server, sign_in, screenshot_path):
    user = UserFactory(email="lee@example.com")
    workspace = WorkspaceFactory(name="Acme", slug="acme")
    MembershipFactory(user=user, workspace=workspace, role=Role.VIEWER)
    StoryFactory(product=ProductFactory(workspace=workspace, name="Billing"), title="Refund flow")
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, user)

    page.get_by_label("Search (Ctrl+K)").click()
    dialog = page.locator("#search-palette")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    page.keyboard.press("Control+k")
    page.keyboard.type("refund")
    expect(page.get_by_role("option")).to_have_count(2)
    page.keyboard.press("ArrowDown")  # to "See all results"
    page.keyboard.press("Enter")
    page.wait_for_url("**/search/?q=refund")
    expect(page.get_by_role("heading", name="Story")).to_be_visible()
    expect(page.get_by_role("link", name="Refund flow")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=screenshot_path("search-page-390.png"), full_page=True)
