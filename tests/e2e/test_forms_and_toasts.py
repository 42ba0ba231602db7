"""The form pattern and the confirmations in a real Chromium: an htmx inline edit comes back with
the error at its field and what was typed, a save confirms itself as a toast that goes away, the
searchable check list filters, and single-key shortcuts can be turned off from the user menu."""

import re

import pytest
from playwright.sync_api import expect

from backlog import services
from pmhub.models import Role
from roadmaps.models import Product
from tests.factories import MembershipFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world():
    user = UserFactory(email="pm@acme.test", name="Priya PM")
    membership = MembershipFactory(user=user, role=Role.ADMIN, workspace__slug="acme", workspace__name="Acme")
    product = Product.objects.create(workspace=membership.workspace, name="Acme Analytics")
    stories = services.stories_bulk_create(actor=user, product=product, stories=[
        {"title": f"Story {i}", "points": i} for i in range(1, 11)] + [{"title": "Export cohorts"}])
    return user, product, stories


@pytest.mark.parametrize("width", [1440, 390])
def test_inline_edit_error_at_the_field_then_a_toast_that_goes(page, live_server, sign_in, world, width,
                                                             screenshot_path):
    user, product, stories = world
    sign_in(page, user)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server.url}/w/acme/products/{product.id}/backlog/")
    row = page.locator(f"#story-{stories[0].id}")
    row.get_by_role("button", name="Edit Story 1").click()
    editor = page.locator(f"#story-{stories[0].id}.editing")
    editor.get_by_label("Title").fill("Story one, renamed")
    editor.get_by_label("Points").fill("-4")
    editor.get_by_role("button", name="Save").click()

    editor = page.locator(f"#story-{stories[0].id}.editing")
    points = editor.get_by_label("Points")
    expect(points).to_have_attribute("aria-invalid", "true")
    expect(editor.locator("label:has(input[name=points]) .errorlist")).to_contain_text("0 or more")
    expect(editor.get_by_label("Title")).to_have_value("Story one, renamed")  # what was typed stays

    points.fill("3")
    editor.get_by_role("button", name="Save").click()
    toast = page.locator("[data-announcer] .message-success")
    expect(toast).to_contain_text("“Story one, renamed” saved.")
    box = toast.bounding_box()
    assert box["x"] + box["width"] <= width  # inside the screen at 390 px too
    toast.evaluate("el => Promise.all(el.getAnimations().map(a => a.finished))")  # its entrance has ended
    page.screenshot(path=screenshot_path(f"toast-{width}.png"))
    expect(toast).to_have_count(0, timeout=10_000)  # gone after a few seconds
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_check_list_filters_and_keeps_choices_after_an_error(page, live_server, sign_in, world):
    user, product, _stories = world
    sign_in(page, user)
    page.goto(f"{live_server.url}/w/acme/products/{product.id}/feedback/")
    stories = page.get_by_role("group", name="Stories")
    stories.get_by_label("Filter stories").fill("export")
    expect(stories.locator("label:visible")).to_have_count(1)
    stories.get_by_label("Filter stories").press("Enter")  # narrows and moves to the first box, no submit
    expect(stories.get_by_label("Export cohorts")).to_be_focused()
    page.keyboard.press("Space")
    expect(stories.get_by_label("Export cohorts")).to_be_checked()
    page.get_by_label("Quote").fill("We need cohorts in Excel")
    page.get_by_role("button", name="Save feedback").click()  # no customer: the browser would stop it
    # (required is enforced by the browser; the server check is in tests/core/test_form_pattern.py)
    assert page.get_by_label("Customer").evaluate("el => el.validity.valueMissing")


def test_single_key_shortcuts_can_be_turned_off_from_any_page(page, live_server, sign_in, world):
    user, _product, _stories = world
    sign_in(page, user)
    page.goto(f"{live_server.url}/w/acme/")
    page.locator("main").click()
    page.keyboard.press("/")
    expect(page.locator("#search-palette")).to_have_attribute("open", "")
    page.keyboard.press("Escape")
    page.locator(".user-menu summary").click()
    page.get_by_label("Single-key shortcuts").uncheck()
    expect(page.locator("[data-announcer]")).to_contain_text("Keyboard shortcuts are off.")
    page.reload()
    page.locator("main").click()
    page.keyboard.press("/")
    expect(page.locator("#search-palette")).not_to_have_attribute("open", re.compile(".*"))
    page.keyboard.press("Control+k")  # not a single key: stays on
    expect(page.locator("#search-palette")).to_have_attribute("open", "")
    assert page.locator("header svg.icon-bell").count() == 1
