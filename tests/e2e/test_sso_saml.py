"""SAML sign-in end to end in a real Chromium: PMHub on localhost, the IdP (pysaml2, signing with
xmlsec1) on 127.0.0.1, another site, so the browser applies SameSite to the IdP's POST exactly as
with a real IdP (decision 1812)."""

import pytest
from playwright.sync_api import expect

from pmhub.models import Membership, Role, User
from sso.models import IdentityProvider
from sso.saml import sp_metadata_xml
from sso.saml_services import saml_sp_for
from tests.factories import WorkspaceFactory
from tests.sso.factories import SsoDomainFactory
from tests.sso.saml_idp import IdpWebServer

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def idp_web(tmp_path):
    server = IdpWebServer(tmp_path)
    yield server
    server.close()


@pytest.fixture
def saml_provider(live_server, idp_web, settings):
    settings.SITE_URL = live_server.url
    # The test IdP speaks http on loopback: allowed by the operator's list (tests only), as for OIDC.
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    workspace = WorkspaceFactory(name="Acme", slug="acme")
    SsoDomainFactory(workspace=workspace, domain="acme.test")
    provider = IdentityProvider.objects.create(
        workspace=workspace, name="Okta", protocol="saml", metadata_xml=idp_web.idp.metadata_xml(),
        entity_id=idp_web.idp.entity_id, group_roles=[{"group": "pmhub-editors", "role": Role.EDITOR}])
    idp_web.idp.trust(sp_metadata_xml(saml_sp_for(provider)))
    return provider


def test_saml_sign_in_through_the_idp_in_a_real_browser(page, live_server, saml_provider, idp_web):
    acs_cookies = []
    page.on("request", lambda r: acs_cookies.append(r.headers.get("cookie", ""))
            if r.method == "POST" and r.url.endswith(f"/sso/{saml_provider.pk}/saml/acs/") else None)

    page.goto(f"{live_server.url}/sso/{saml_provider.pk}/saml/login/?next=/notifications/")
    expect(page.get_by_role("heading", name="Test IdP")).to_be_visible()
    page.get_by_role("button", name="Sign in as ada@acme.test").click()
    page.wait_for_url(f"{live_server.url}/notifications/")

    expect(page.get_by_text("Signed in with Okta.")).to_be_visible()
    user = User.objects.get(email="ada@acme.test")
    assert Membership.objects.get(user=user).role == Role.EDITOR
    # Why the ACS re-posts (decision 1812): the IdP's cross-site POST came without our session cookie.
    assert acs_cookies and "sessionid" not in acs_cookies[0]


def test_continue_with_sso_routes_by_e_mail_to_the_saml_idp(page, live_server, saml_provider, idp_web):
    console = []
    page.on("console", lambda m: console.append(m.text))
    page.goto(f"{live_server.url}/sso/")
    page.get_by_label("Work e-mail").fill("ada@acme.test")
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="Test IdP")).to_be_visible()
    page.get_by_role("button", name="Sign in as ada@acme.test").click()
    expect(page.get_by_text("Signed in with Okta.")).to_be_visible()
    assert not [m for m in console if "Content Security Policy" in m], console


def test_a_forged_answer_is_a_clear_page_in_the_browser(page, live_server, saml_provider, idp_web, tmp_path):
    from tests.sso.saml_idp import TestIdp

    forger = TestIdp(tmp_path, name="forger", sso_url=idp_web.idp.sso_url)  # same IdP name, another key
    forger.trust(sp_metadata_xml(saml_sp_for(saml_provider)))
    idp_web.idp = forger

    page.goto(f"{live_server.url}/sso/{saml_provider.pk}/saml/login/")
    page.get_by_role("button", name="Sign in as ada@acme.test").click()

    expect(page.get_by_role("heading", name="Single sign-on did not succeed")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("signature PMHub cannot verify")
    assert not User.objects.filter(email="ada@acme.test").exists()


@pytest.mark.parametrize("width", [1280, 390])
def test_saml_provider_settings_fit_the_screen(page, live_server, saml_provider, sign_in, screenshot_path, width):
    from tests.factories import MembershipFactory, UserFactory

    admin = UserFactory(email="owner@acme.test")
    MembershipFactory(user=admin, workspace=saml_provider.workspace, role=Role.ADMIN)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, admin)
    page.goto(f"{live_server.url}/w/acme/sso/providers/{saml_provider.pk}/")

    expect(page.get_by_test_id("saml-acs-url")).to_have_text(f"{live_server.url}/sso/{saml_provider.pk}/saml/acs/")
    expect(page.get_by_test_id("saml-metadata-state")).to_contain_text("Loaded")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=screenshot_path(f"sso-saml-provider-{width}.png"), full_page=True)
