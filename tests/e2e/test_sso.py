"""Single sign-on in a real Chromium: "Continue with SSO" on the sign-in page, the work e-mail, the
OpenID provider's own page (oidc-provider-mock on 127.0.0.1, signing real tokens), and back signed in,
with a just-in-time account whose role comes from its group claim."""

import pytest
from playwright.sync_api import expect

from pmhub.models import Membership, Role, User
from tests.factories import WorkspaceFactory
from tests.sso.factories import IdentityProviderFactory, SsoDomainFactory
from tests.sso.idp import MockProvider

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def idp(settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]  # the provider listens on loopback (tests only)
    server = MockProvider()
    yield server
    server.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_sign_in_through_the_identity_provider_end_to_end(page, live_server, idp, width, screenshot_path,
                                                         settings):
    settings.SITE_URL = live_server.url  # the callback URL registered at the provider is built from it
    workspace = WorkspaceFactory(name="Acme", slug="acme")
    SsoDomainFactory(workspace=workspace, domain="acme.test")
    IdentityProviderFactory(workspace=workspace, name="Acme IdP", issuer=idp.issuer, client_id="pmhub-e2e",
                            group_roles=[{"group": "product-managers", "role": Role.EDITOR}])
    idp.set_user("ada-e2e", email="ada@acme.test", email_verified=True, name="Ada Lovelace",
                 groups=["product-managers"])
    page.set_viewport_size({"width": width, "height": 900})
    page.route("https://cdn.jsdelivr.net/**", lambda route: route.abort())  # the mock's stylesheet (offline)

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("link", name="Continue with SSO").click()
    page.get_by_label("Work e-mail").fill("ada@acme.test")
    page.screenshot(path=screenshot_path(f"sso-start-{width}.png"))
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.get_by_role("button", name="Continue").click()

    page.wait_for_url(f"{idp.issuer}/oauth2/authorize*")  # the provider's own page
    page.locator("input[name=sub]").fill("ada-e2e")
    page.get_by_role("button", name="Authorize").click()

    page.wait_for_url(f"{live_server.url}/w/acme/**")
    expect(page.get_by_text("Acme").first).to_be_visible()
    user = User.objects.get(email="ada@acme.test")
    assert user.name == "Ada Lovelace"
    assert Membership.objects.get(user=user, workspace=workspace).role == Role.EDITOR
    assert idp.pkce_checked >= 1
