"""A person signs in, creates a workspace and invites a colleague, in a real Chromium."""

import pytest
from playwright.sync_api import expect

from pmhub.models import Invitation, Role
from tests.factories import MembershipFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_sign_in_create_workspace_and_invite(page, live_server, sign_in, screenshot_path):
    user = UserFactory(email="ada@example.com", name="Ada Lovelace")
    sign_in(page, user)
    # No workspace yet: the app offers to create one.
    expect(page.get_by_role("heading", name="Create a workspace")).to_be_visible()
    page.get_by_label("Name").fill("Analytical Engines")
    page.get_by_label("Time zone").select_option("Europe/London")
    page.get_by_role("button", name="Create workspace").click()
    expect(page.get_by_role("heading", name="Analytical Engines", level=1)).to_be_visible()
    expect(page.get_by_test_id("empty-home")).to_be_visible()

    page.get_by_role("link", name="Members").click()
    page.get_by_label("Email").fill("charles@example.com")
    page.locator("#id_role").select_option(str(Role.EDITOR))
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Invitation sent to charles@example.com.")).to_be_visible()
    expect(page.get_by_test_id("pending-invitation")).to_contain_text("charles@example.com")
    assert Invitation.objects.get().role == Role.EDITOR

    page.get_by_role("link", name="Home").click()
    page.set_viewport_size({"width": 1280, "height": 800})
    page.screenshot(path=screenshot_path("home.png"), full_page=True)


def test_keyboard_only_sign_in_and_narrow_layout(page, live_server, screenshot_path):
    user = UserFactory(email="kim@example.com")
    MembershipFactory(user=user, role=Role.ADMIN)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").focus()
    page.keyboard.type(user.email)
    page.keyboard.press("Tab")
    from tests.factories import PASSWORD

    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_load_state("networkidle")
    # At phone width the workspace links fold behind the Menu button, so the page's title comes first.
    expect(page.get_by_role("link", name="Members")).to_be_hidden()
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_have_attribute("aria-expanded", "false")
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("link", name="Members")).to_be_visible()
    # Nothing overflows sideways at phone width.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    page.screenshot(path=screenshot_path("home-390.png"), full_page=True)


def test_api_token_created_in_browser_works_with_the_api(page, live_server, sign_in):
    user = UserFactory(email="tok@example.com")
    membership = MembershipFactory(user=user, role=Role.EDITOR)
    sign_in(page, user)
    page.goto(f"{live_server.url}/account/tokens/")
    page.get_by_label("Name").fill("script")
    page.get_by_label("Workspace").select_option(str(membership.workspace_id))
    page.get_by_role("button", name="Create token").click()
    raw = page.get_by_test_id("new-token").inner_text().strip()
    response = page.request.get(f"{live_server.url}/api/v1/workspaces/", headers={"Authorization": f"Token {raw}"})
    assert response.status == 200
    assert response.json()["results"][0]["id"] == membership.workspace_id
