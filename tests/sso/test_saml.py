"""SAML 2.0 sign-in against a real identity provider built in the test (tests/sso/saml_idp.py):
pysaml2 on both sides, xmlsec1 signing and verifying, the whole Django stack (sessions, cache,
database) in between. Each refusal has its acceptance twin in `test_sign_in_*`."""

import base64
import datetime as dt
import logging
import re
from html import unescape

import pytest
import time_machine
from django.urls import reverse

from pmhub.models import Membership, Role, User
from sso.models import IdentityProvider, SsoIdentity
from tests.sso.factories import SsoDomainFactory

from .saml_idp import IDP_SSO_URL, TestIdp

pytestmark = pytest.mark.django_db


@pytest.fixture
def saml_idp(tmp_path):
    return TestIdp(tmp_path)


@pytest.fixture
def provider(workspace, saml_idp, client):
    SsoDomainFactory(workspace=workspace, domain="acme.test")
    provider = IdentityProvider.objects.create(
        workspace=workspace, name="Okta", protocol=IdentityProvider.Protocol.SAML, metadata_xml=saml_idp.metadata_xml(),
        entity_id=saml_idp.entity_id, default_role=Role.VIEWER,
        group_roles=[{"group": "pmhub-editors", "role": Role.EDITOR}, {"group": "pmhub-admins", "role": Role.ADMIN}])
    # The IdP is given our SP metadata, from our metadata URL, as an administrator would.
    saml_idp.trust(client.get(reverse("sso:saml_metadata", args=[provider.pk])).content.decode())
    return provider


def start(client, provider, next_path=""):
    """The browser opens our login URL and is sent to the IdP with an AuthnRequest."""
    url = reverse("sso:saml_login", args=[provider.pk]) + (f"?next={next_path}" if next_path else "")
    response = client.get(url)
    assert response.status_code == 302, response.content
    assert response["Location"].startswith(IDP_SSO_URL + "?SAMLRequest=")
    return response["Location"]


def post_answer(client, provider, saml_response):
    """The browser posts the IdP's answer to our ACS (cross-site: our page re-posts it from our own
    site), then that page's form is submitted. Returns the last response."""
    page = client.post(reverse("sso:saml_callback", args=[provider.pk]), {"SAMLResponse": saml_response})
    assert page.status_code == 200
    html = page.content.decode()
    action = re.search(r'<form method="post" action="([^"]+)" data-saml-autopost>', html).group(1)
    assert action == reverse("sso:saml_acs_complete", args=[provider.pk])
    reposted = unescape(re.search(r'name="SAMLResponse" value="([^"]*)"', html).group(1))
    assert reposted == saml_response
    return client.post(action, {"SAMLResponse": reposted})


def signed_in_user(client):
    return client.get(reverse("home")).wsgi_request.user


def refused(response, code, caplog):
    assert response.status_code in (400, 403), response.status_code
    assert "Single sign-on did not succeed" in response.content.decode()
    assert f"sso.refused reason=saml_{code}" in caplog.text or f"sso.refused reason={code}" in caplog.text, caplog.text
    return True


# --- sign-in ------------------------------------------------------------------------------------

def test_sign_in_creates_the_account_and_maps_groups_to_a_role(client, provider, saml_idp, caplog):
    url = start(client, provider, next_path="/notifications/")
    answer, _ = saml_idp.answer(url, email="Ada@Acme.test", name="Ada Lovelace", groups=["everyone", "pmhub-editors"])

    with caplog.at_level(logging.INFO, logger="pmhub.sso"):
        response = post_answer(client, provider, answer)

    assert response.status_code == 302 and response["Location"] == "/notifications/"
    assert "Signed in with Okta." in client.get(response["Location"]).content.decode()
    user = User.objects.get(email="ada@acme.test")
    assert user.name == "Ada Lovelace"
    assert signed_in_user(client) == user
    assert Membership.objects.get(user=user, workspace=provider.workspace).role == Role.EDITOR
    identity = SsoIdentity.objects.get(provider=provider)
    assert (identity.user, identity.subject, identity.granted_role) == (user, "okta|00u1ada", Role.EDITOR)
    assert f"sso.saml.signed_in provider={provider.pk} user={user.pk}" in caplog.text


def test_role_follows_the_groups_at_every_sign_in(client, provider, saml_idp):
    answer, _ = saml_idp.answer(start(client, provider), groups=["pmhub-editors"])
    post_answer(client, provider, answer)
    client.logout()
    answer, _ = saml_idp.answer(start(client, provider), groups=[])
    post_answer(client, provider, answer)

    user = User.objects.get(email="ada@acme.test")
    assert Membership.objects.get(user=user, workspace=provider.workspace).role == Role.VIEWER  # the default


def test_a_response_signed_only_as_a_whole_is_accepted(client, provider, saml_idp):
    """Keycloak's default: the Response signed, the assertion inside it not."""
    answer, _ = saml_idp.answer(start(client, provider), sign_response=True, sign_assertion=False)
    assert post_answer(client, provider, answer).status_code == 302
    assert signed_in_user(client).email == "ada@acme.test"


def test_entra_id_claim_names_are_read_by_default(client, provider, saml_idp):
    answer, _ = saml_idp.answer(start(client, provider), attributes={
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress": ["grace@acme.test"],
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname": ["Grace"],
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname": ["Hopper"],
        "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups": ["pmhub-admins"]})
    post_answer(client, provider, answer)

    user = User.objects.get(email="grace@acme.test")
    assert user.name == "Grace Hopper"
    assert Membership.objects.get(user=user).role == Role.ADMIN


def test_configured_attribute_names_come_first(client, provider, saml_idp):
    provider.email_attribute, provider.name_attribute, provider.groups_claim = "workMail", "cn", "teams"
    provider.save()
    answer, _ = saml_idp.answer(start(client, provider), attributes={
        "email": ["private@elsewhere.test"], "workMail": ["linus@acme.test"], "cn": ["Linus"],
        "teams": ["pmhub-editors"]})
    post_answer(client, provider, answer)

    user = User.objects.get(email="linus@acme.test")
    assert (user.name, Membership.objects.get(user=user).role) == ("Linus", Role.EDITOR)


# --- refusals -----------------------------------------------------------------------------------

def test_unsigned_response_is_refused(client, provider, saml_idp, caplog):
    answer, _ = saml_idp.answer(start(client, provider), sign_assertion=False, sign_response=False)
    response = post_answer(client, provider, answer)

    assert refused(response, "unsigned", caplog)
    assert "not signed" in response.content.decode()
    assert not User.objects.filter(email="ada@acme.test").exists()
    assert not signed_in_user(client).is_authenticated


@pytest.mark.parametrize("signed", ["assertion", "response"])
def test_response_signed_with_another_key_is_refused(client, provider, tmp_path, caplog, signed):
    forger = TestIdp(tmp_path, name="forger")  # same entity id, its own key
    forger.trust(client.get(reverse("sso:saml_metadata", args=[provider.pk])).content.decode())
    answer, _ = forger.answer(start(client, provider), sign_assertion=signed == "assertion",
                              sign_response=signed == "response")
    response = post_answer(client, provider, answer)

    assert refused(response, "bad_signature", caplog)
    assert not User.objects.filter(email="ada@acme.test").exists()


def test_tampered_assertion_is_refused(client, provider, saml_idp, caplog):
    answer, _ = saml_idp.answer(start(client, provider), email="ada@acme.test")
    forged = base64.b64encode(base64.b64decode(answer).replace(b"ada@acme.test", b"eve@acme.test")).decode()
    response = post_answer(client, provider, forged)

    assert refused(response, "bad_signature", caplog)
    assert not User.objects.filter(email__in=["ada@acme.test", "eve@acme.test"]).exists()


def test_answer_signed_with_sha1_is_refused(client, provider, tmp_path, caplog):
    legacy = TestIdp(tmp_path, name="legacy", sha1=True)
    legacy.trust(client.get(reverse("sso:saml_metadata", args=[provider.pk])).content.decode())
    IdentityProvider.objects.filter(pk=provider.pk).update(metadata_xml=legacy.metadata_xml())
    answer, _ = legacy.answer(start(client, provider))
    response = post_answer(client, provider, answer)

    assert refused(response, "weak_signature", caplog)
    assert "SHA-256" in response.content.decode()
    assert not User.objects.filter(email="ada@acme.test").exists()


def test_encrypted_answer_is_refused_with_what_to_change(client, provider, saml_idp, tmp_path, caplog):
    from .saml_idp import key_pair

    _, cert = key_pair(tmp_path, "sp-encryption")
    answer, _ = saml_idp.answer(start(client, provider), encrypt_for_cert=cert.read_text())
    response = post_answer(client, provider, answer)

    assert refused(response, "encrypted", caplog)
    assert "turn assertion encryption off" in response.content.decode()


def test_answer_for_another_audience_is_refused(client, provider, saml_idp, caplog):
    url = start(client, provider)
    answer, _ = saml_idp.answer(url, audience="https://other-app.example.test/saml")
    response = post_answer(client, provider, answer)

    assert refused(response, "wrong_audience", caplog)
    assert not User.objects.filter(email="ada@acme.test").exists()


def _drop_audience(xml):
    return re.sub(r"<ns\d:AudienceRestriction>.*?</ns\d:AudienceRestriction>", "", xml)


def _second_audience(xml):
    return re.sub(r"(</ns\d:AudienceRestriction>)", r"\1<ns1:AudienceRestriction><ns1:Audience>"
                  r"https://other-app.example.test/saml</ns1:Audience></ns1:AudienceRestriction>", xml, count=1)


def test_edited_answers_signed_by_the_idp_are_accepted_unchanged(client, provider, saml_idp):
    """The twin of the two tests below: the same signing path with no change signs in."""
    answer, _ = saml_idp.answer_edited(start(client, provider), lambda xml: xml)
    assert post_answer(client, provider, answer).status_code == 302


@pytest.mark.parametrize("edit", [_drop_audience, _second_audience], ids=["no_audience", "two_restrictions"])
def test_audience_restrictions_must_all_name_us(client, provider, saml_idp, caplog, edit):
    answer, _ = saml_idp.answer_edited(start(client, provider), edit)
    assert "AudienceRestriction" in base64.b64decode(answer).decode() or edit is _drop_audience
    response = post_answer(client, provider, answer)

    assert refused(response, "wrong_audience", caplog)


def test_answer_naming_another_issuer_is_refused(client, provider, saml_idp, caplog):
    answer, _ = saml_idp.answer_edited(start(client, provider), lambda xml: xml.replace(
        f">{saml_idp.entity_id}</ns1:Issuer>", ">https://other-idp.example.test</ns1:Issuer>", 1))
    response = post_answer(client, provider, answer)

    assert refused(response, "wrong_issuer", caplog)


def test_answer_for_another_pmhub_provider_is_refused(client, provider, saml_idp, workspace, caplog):
    """Two providers on one IdP: each has its own entity id, so neither accepts the other's answers."""
    other = IdentityProvider.objects.create(workspace=workspace, name="Okta 2", protocol="saml",
                                            metadata_xml=provider.metadata_xml, entity_id=saml_idp.entity_id)
    url = start(client, provider)
    answer, _ = saml_idp.answer(url, audience=settings_entity_id(other))
    response = post_answer(client, provider, answer)

    assert refused(response, "wrong_audience", caplog)


def settings_entity_id(provider):
    from sso.saml_services import saml_entity_id

    return saml_entity_id(provider)


def test_answer_addressed_to_another_acs_is_refused(client, provider, saml_idp, caplog):
    answer, _ = saml_idp.answer(start(client, provider), destination="https://other-app.example.test/saml/acs")
    response = post_answer(client, provider, answer)

    assert refused(response, "wrong_destination", caplog)


def test_expired_answer_is_refused(client, provider, saml_idp, caplog):
    url = start(client, provider)
    with time_machine.travel(dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)):
        answer, _ = saml_idp.answer(url)  # valid 5 minutes from then: expired 5 minutes ago
    response = post_answer(client, provider, answer)

    assert refused(response, "expired", caplog)
    assert "expired" in response.content.decode()


def test_answer_from_a_clock_ahead_is_refused_beyond_the_skew(client, provider, saml_idp, caplog):
    url = start(client, provider)
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)):
        answer, _ = saml_idp.answer(url)
    response = post_answer(client, provider, answer)

    assert refused(response, "not_yet_valid", caplog)


def test_answer_from_a_clock_ahead_within_the_skew_is_accepted(client, provider, saml_idp):
    url = start(client, provider)
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=60)):
        answer, _ = saml_idp.answer(url)
    assert post_answer(client, provider, answer).status_code == 302
    assert signed_in_user(client).is_authenticated


def test_answer_to_another_request_is_refused(client, provider, saml_idp, caplog):
    answer, _ = saml_idp.answer(start(client, provider), in_response_to="id-of-a-request-we-never-made")
    response = post_answer(client, provider, answer)

    assert refused(response, "unsolicited", caplog)


def test_answer_to_a_request_of_another_browser_is_refused(client, provider, saml_idp, caplog):
    """Login CSRF: an attacker's own valid answer, posted from the victim's browser."""
    from django.test import Client

    attacker = Client()
    answer, _ = saml_idp.answer(start(attacker, provider))
    response = post_answer(client, provider, answer)

    assert refused(response, "unsolicited", caplog)
    assert not signed_in_user(client).is_authenticated


def test_answer_after_the_request_expired_is_refused(client, provider, saml_idp, caplog):
    url = start(client, provider)
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=11), tick=True):
        answer, _ = saml_idp.answer(url)
        response = post_answer(client, provider, answer)

    assert refused(response, "unsolicited", caplog)


def test_answer_posted_again_after_sign_out_is_refused(client, provider, saml_idp, caplog):
    answer, _ = saml_idp.answer(start(client, provider))
    assert post_answer(client, provider, answer).status_code == 302
    client.logout()  # a fresh session: the request it answered is gone with the old one

    response = post_answer(client, provider, answer)

    assert refused(response, "unsolicited", caplog)
    assert not signed_in_user(client).is_authenticated


def test_replayed_answer_in_the_same_session_is_refused_by_the_replay_store(client, provider, saml_idp, caplog):
    answer, _ = saml_idp.answer(start(client, provider))
    assert post_answer(client, provider, answer).status_code == 302

    response = post_answer(client, provider, answer)  # the request id is still outstanding here

    assert refused(response, "replayed", caplog)
    assert "already used" in response.content.decode()


def test_address_of_an_unverified_domain_is_refused(client, provider, saml_idp, caplog):
    answer, _ = saml_idp.answer(start(client, provider), email="mallory@globex.test")
    response = post_answer(client, provider, answer)

    assert refused(response, "domain_not_verified", caplog)
    assert not User.objects.filter(email="mallory@globex.test").exists()


def test_answer_without_an_email_is_refused(client, provider, saml_idp, caplog):
    answer, _ = saml_idp.answer(start(client, provider), attributes={"displayName": ["Nobody"]})
    response = post_answer(client, provider, answer)

    assert refused(response, "no_email", caplog)


def test_garbage_is_refused_with_a_page(client, provider, caplog):
    start(client, provider)
    for junk in ["not base64 at all!!", "PHhtbD4=", "PD94bWwgdmVyc2lvbj0iMS4wIj8+PCFET0NUWVBFIHg+"]:
        response = post_answer(client, provider, junk)
        assert response.status_code in (400, 403)
        assert "Single sign-on did not succeed" in response.content.decode()


def test_acs_without_a_response_is_a_page_not_an_error(client, provider):
    response = client.get(reverse("sso:saml_callback", args=[provider.pk]))
    assert response.status_code == 400
    assert "start from PMHub" in response.content.decode()


def test_disabled_provider_refuses_to_start_and_to_finish(client, provider, saml_idp, caplog):
    url = start(client, provider)
    answer, _ = saml_idp.answer(url)
    IdentityProvider.objects.filter(pk=provider.pk).update(enabled=False)

    assert client.get(reverse("sso:saml_login", args=[provider.pk])).status_code == 404
    assert post_answer(client, provider, answer).status_code == 404
    assert not User.objects.filter(email="ada@acme.test").exists()


def test_provider_without_metadata_yet_says_so(client, provider):
    IdentityProvider.objects.filter(pk=provider.pk).update(metadata_xml="")
    response = client.get(reverse("sso:saml_login", args=[provider.pk]))
    assert response.status_code == 503
    assert "not ready" in response.content.decode()


def test_oidc_provider_has_no_saml_pages(client, workspace):
    oidc = IdentityProvider.objects.create(workspace=workspace, name="Auth", protocol="oidc",
                                           issuer="https://id.example.test", client_id="x")
    assert client.get(reverse("sso:saml_login", args=[oidc.pk])).status_code == 404
    assert client.get(reverse("sso:saml_metadata", args=[oidc.pk])).status_code == 404


# --- our metadata -------------------------------------------------------------------------------

def test_sp_metadata_names_our_entity_id_and_acs_for_this_provider(client, provider, settings):
    response = client.get(reverse("sso:saml_metadata", args=[provider.pk]))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/samlmetadata+xml")
    xml = response.content.decode()
    assert f'entityID="{settings.SITE_URL}/sso/{provider.pk}/saml/metadata/"' in xml
    assert f'Location="{settings.SITE_URL}/sso/{provider.pk}/saml/acs/"' in xml
    assert "HTTP-POST" in xml
    assert 'WantAssertionsSigned="true"' in xml
    assert "md5" not in xml and "PRIVATE KEY" not in xml


def test_start_page_admits_an_http_idp_only_when_the_operator_allowed_its_host(client, workspace, tmp_path, settings):
    intranet = TestIdp(tmp_path, name="intranet", sso_url="http://idp.corp.internal:8080/saml/sso")
    IdentityProvider.objects.create(workspace=workspace, name="ADFS", protocol="saml",
                                    metadata_xml=intranet.metadata_xml(), entity_id=intranet.entity_id)

    settings.OUTBOUND_ALLOWED_HOSTS = []
    assert "idp.corp.internal" not in client.get(reverse("sso:start"))["Content-Security-Policy"]
    settings.OUTBOUND_ALLOWED_HOSTS = ["idp.corp.internal"]
    assert "form-action 'self' https: http://idp.corp.internal:8080" in client.get(
        reverse("sso:start"))["Content-Security-Policy"]


def test_a_server_without_xmlsec1_says_saml_is_unavailable(client, provider, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr("sso.saml.XMLSEC_FALLBACK", "/nonexistent/xmlsec1")
    response = client.get(reverse("sso:saml_login", args=[provider.pk]))
    assert response.status_code == 503
    assert "not available on this server" in response.content.decode()


def test_saml_constants_are_pysaml2s():
    """sso/saml.py names the bindings and NameID formats itself so that pysaml2 is imported only
    when SAML is used (decision 2070); they must be pysaml2's own values."""
    import saml2
    from saml2 import saml as saml2_saml

    from sso import saml

    assert saml.BINDING_HTTP_POST == saml2.BINDING_HTTP_POST
    assert saml.BINDING_HTTP_REDIRECT == saml2.BINDING_HTTP_REDIRECT
    for name in ("NAMEID_FORMAT_EMAILADDRESS", "NAMEID_FORMAT_PERSISTENT", "NAMEID_FORMAT_TRANSIENT"):
        assert getattr(saml, name) == getattr(saml2_saml, name)

