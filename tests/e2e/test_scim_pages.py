"""SCIM in a real Chromium: an admin creates a SCIM token on the settings page (shown once, the page
fits a phone), the identity provider uses it to deactivate a member, and the member's open browser
is signed out at its next click."""

import httpx
import pytest
from playwright.sync_api import expect

from pmhub.models import Role
from tests.factories import MembershipFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world():
    admin = UserFactory(email="it@acme.test", name="Ines IT")
    membership = MembershipFactory(user=admin, role=Role.ADMIN, workspace__slug="acme", workspace__name="Acme")
    leaver = UserFactory(email="leaver@acme.test", name="Lee Leaver")
    MembershipFactory(user=leaver, role=Role.EDITOR, workspace=membership.workspace)
    return admin, leaver


@pytest.mark.parametrize("width", [1280, 390])
def test_token_created_on_the_page_deactivates_a_member_whose_browser_is_signed_out(
        browser, live_server, sign_in, world, width, screenshot_path):
    admin, leaver = world
    it = browser.new_context(viewport={"width": width, "height": 900})
    page = it.new_page()
    sign_in(page, admin)
    page.goto(f"{live_server.url}/w/acme/settings/scim/")
    expect(page.get_by_test_id("scim-base-url")).to_have_text(f"{live_server.url}/scim/v2")
    page.get_by_label("Name").fill("Okta")
    page.get_by_role("button", name="Create token").click()
    raw = page.get_by_test_id("new-token").inner_text().strip()
    assert raw.startswith("pmscim_")
    expect(page.get_by_test_id("scim-token-row")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # the long token wraps
    page.screenshot(path=screenshot_path(f"scim-settings-{width}.png"), full_page=True)

    member = browser.new_context(viewport={"width": width, "height": 900})
    their_page = member.new_page()
    sign_in(their_page, leaver)
    their_page.goto(f"{live_server.url}/w/acme/")
    expect(their_page).to_have_url(f"{live_server.url}/w/acme/")

    with httpx.Client(base_url=f"{live_server.url}/scim/v2/", headers={"Authorization": f"Bearer {raw}"}) as idp:
        found = idp.post("Users", json={"userName": "leaver@acme.test",
                                        "emails": [{"value": "leaver@acme.test", "primary": True}]})
        assert found.status_code == 201  # an existing account is linked
        off = idp.patch(f"Users/{found.json()['id']}", json={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "active", "value": False}]})
        assert off.status_code == 200 and off.json()["active"] is False

    their_page.reload()
    expect(their_page).to_have_url(f"{live_server.url}/accounts/login/?next=/w/acme/")
    page.reload()  # the admin is not affected
    expect(page.get_by_role("heading", name="SCIM provisioning")).to_be_visible()
    it.close()
    member.close()
