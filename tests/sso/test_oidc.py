"""OpenID Connect sign-in against a real provider on 127.0.0.1 (tests/sso/idp.py): discovery,
authorization code with PKCE, signed ID tokens; and every refusal a clear page, never a 500."""

import logging
from urllib.parse import parse_qs, urlsplit

import pytest

from pmhub.models import Membership, Role, User
from sso.models import SsoIdentity
from tests.factories import UserFactory


def _start(client, email="ada@acme.test"):
    """"Continue with SSO" with an e-mail, then our redirect to the provider: its authorize URL."""
    response = client.post("/sso/", {"email": email})
    assert response.status_code == 302, response.content[:300]
    response = client.get(response["Location"])
    assert response.status_code == 302
    return response["Location"]


def _callback_path(location):
    parts = urlsplit(location)
    return f"{parts.path}?{parts.query}"


def _sign_in(client, idp, *, sub="ada-1", email="ada@acme.test", groups=("pm-editors",), **claims):
    idp.set_user(sub, email=email, email_verified=True, name="Ada Lovelace", groups=list(groups), **claims)
    location = idp.authorize(_start(client, email), sub=sub)
    return client.get(_callback_path(location))


@pytest.mark.django_db
def test_full_sign_in_creates_the_account_with_the_role_of_its_group_and_updates_it_next_time(
        client, idp, oidc_provider, workspace):
    authorize_url = _start(client)
    query = parse_qs(urlsplit(authorize_url).query)
    assert authorize_url.startswith(f"{idp.issuer}/oauth2/authorize")
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    assert query["client_id"] == ["pmhub-test"] and "openid" in query["scope"][0].split()
    idp.set_user("ada-1", email="ada@acme.test", email_verified=True, name="Ada Lovelace", groups=["pm-editors"])
    checked = idp.pkce_checked
    response = client.get(_callback_path(idp.authorize(authorize_url, sub="ada-1")))
    assert response.status_code == 302 and response["Location"] == "/"
    assert idp.pkce_checked == checked + 1  # the provider verified our code_verifier
    user = User.objects.get(email="ada@acme.test")
    assert user.name == "Ada Lovelace" and not user.has_usable_password()
    assert client.session["_auth_user_id"] == str(user.pk)
    assert Membership.objects.get(user=user, workspace=workspace).role == Role.EDITOR
    assert client.get(f"/w/{workspace.slug}/").status_code == 200

    client.logout()
    assert _sign_in(client, idp, groups=["pm-admins"]).status_code == 302
    assert Membership.objects.get(user=user, workspace=workspace).role == Role.ADMIN
    assert SsoIdentity.objects.get(provider=oidc_provider, subject="ada-1").user == user


@pytest.mark.django_db
def test_existing_account_is_linked_by_email(client, idp, oidc_provider, workspace):
    user = UserFactory(email="grace@acme.test")
    response = _sign_in(client, idp, sub="grace-1", email="grace@acme.test", groups=[])
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    assert SsoIdentity.objects.get(subject="grace-1").user == user
    assert Membership.objects.get(user=user, workspace=workspace).role == Role.VIEWER  # the default role


@pytest.mark.django_db
@pytest.mark.parametrize(("spoil", "reason"), [
    ("forge", "bad_signature"), ("expired", "expired_token"), ("audience", "wrong_audience"),
    ("issuer", "wrong_issuer"),
])
def test_a_spoiled_id_token_is_refused_with_a_clear_page_and_a_log_line(
        client, idp, oidc_provider, caplog, spoil, reason):
    idp.spoil = spoil
    with caplog.at_level(logging.INFO, logger="pmhub.sso"):
        response = _sign_in(client, idp)
    assert response.status_code == 400
    assert b"Single sign-on did not succeed" in response.content
    assert f"reason={reason}" in caplog.text
    assert "_auth_user_id" not in client.session
    assert not User.objects.filter(email="ada@acme.test").exists()
    idp.spoil = None  # the twin: the same sign-in, unspoiled, is accepted
    assert _sign_in(client, idp).status_code == 302
    assert User.objects.filter(email="ada@acme.test").exists()


@pytest.mark.django_db
def test_a_replayed_callback_is_refused(client, client_factory, idp, oidc_provider):
    idp.set_user("ada-1", email="ada@acme.test", email_verified=True, groups=[])
    callback = _callback_path(idp.authorize(_start(client), sub="ada-1"))
    assert client.get(callback).status_code == 302
    client.logout()
    for other in (client, client_factory()):  # same browser again, or an attacker's browser
        response = other.get(callback)
        assert response.status_code == 400 and b"not valid in this browser" in response.content
        assert "_auth_user_id" not in other.session


@pytest.mark.django_db
def test_a_replayed_id_token_is_refused_by_its_nonce(client, idp, oidc_provider, caplog):
    assert _sign_in(client, idp).status_code == 302
    client.logout()
    idp.spoil = "replay"  # the provider's next answer is the previous sign-in's tokens
    with caplog.at_level(logging.INFO, logger="pmhub.sso"):
        response = _sign_in(client, idp)
    assert response.status_code == 400 and "reason=bad_nonce" in caplog.text
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_unknown_domain_is_refused_on_the_start_page(client, idp, oidc_provider, caplog):
    with caplog.at_level(logging.INFO, logger="pmhub.sso"):
        response = client.post("/sso/", {"email": "ada@elsewhere.test"})
    assert response.status_code == 400
    assert b"No workspace uses single sign-on for this e-mail domain" in response.content
    assert b'value="ada@elsewhere.test"' in response.content  # the form keeps what was typed
    assert "reason=unknown_domain" in caplog.text


@pytest.mark.django_db
def test_provider_asserting_an_address_outside_the_verified_domains_is_refused(client, idp, oidc_provider):
    idp.set_user("eve-1", email="eve@globex.test", email_verified=True, groups=["pm-admins"])
    response = client.get(_callback_path(idp.authorize(_start(client), sub="eve-1")))
    assert response.status_code == 403 and b"not verified for single sign-on" in response.content
    assert not User.objects.filter(email="eve@globex.test").exists()


@pytest.mark.django_db
def test_deactivated_account_is_refused(client, idp, oidc_provider):
    UserFactory(email="ada@acme.test", is_active=False)
    response = _sign_in(client, idp)
    assert response.status_code == 403 and b"deactivated" in response.content
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_error_from_the_provider_is_a_clear_page(client, idp, oidc_provider):
    authorize_url = _start(client)
    state = parse_qs(urlsplit(authorize_url).query)["state"][0]
    response = client.get(f"/sso/{oidc_provider.pk}/oidc/callback/?error=access_denied&state={state}")
    assert response.status_code == 400 and b"did not sign you in" in response.content


@pytest.mark.django_db
def test_unreachable_provider_is_a_clear_page_not_a_500(client, idp, oidc_provider, settings):
    oidc_provider.issuer = "http://127.0.0.1:9"  # nothing listens there
    oidc_provider.save()
    response = client.post("/sso/", {"email": "ada@acme.test"})
    response = client.get(response["Location"])
    assert response.status_code == 502 and b"could not reach your identity provider" in response.content
    settings.OUTBOUND_ALLOWED_HOSTS = []  # and a loopback issuer without the operator's allowlist is refused
    response = client.get(f"/sso/{oidc_provider.pk}/oidc/login/")
    assert response.status_code == 400 and b"not set up correctly" in response.content


@pytest.mark.django_db
def test_require_sso_refuses_the_password_form_and_break_glass_admins_keep_it(client, idp, oidc_provider,
                                                                               workspace, settings):
    from pmhub.models import Membership as M
    from sso.models import SsoDomain
    from tests.factories import PASSWORD

    ada = UserFactory(email="ada@acme.test")
    boss = UserFactory(email="boss@acme.test")
    M.objects.create(user=boss, workspace=workspace, role=Role.ADMIN)
    assert client.post("/accounts/login/", {"username": "ada@acme.test", "password": PASSWORD}).status_code == 302
    client.logout()
    SsoDomain.objects.filter(domain="acme.test").update(require_sso=True)
    response = client.post("/accounts/login/", {"username": "ada@acme.test", "password": PASSWORD})
    assert response.status_code == 200 and b"Continue with SSO" in response.content
    assert b"signs in with single sign-on" in response.content
    assert "_auth_user_id" not in client.session
    response = client.post("/accounts/login/", {"username": "boss@acme.test", "password": PASSWORD})
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    settings.SSO_BREAK_GLASS_EMAILS = ["boss@acme.test"]
    response = client.post("/accounts/login/", {"username": "boss@acme.test", "password": PASSWORD})
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(boss.pk)
    client.logout()
    assert _sign_in(client, idp).status_code == 302  # SSO itself still works for Ada
    assert client.session["_auth_user_id"] == str(ada.pk)


@pytest.mark.django_db
def test_a_sign_in_left_open_too_long_is_refused(client, idp, oidc_provider, caplog):
    import time_machine

    idp.set_user("ada-1", email="ada@acme.test", email_verified=True, groups=[])
    with time_machine.travel("2026-12-01 10:00Z", tick=True) as traveller:
        callback = _callback_path(idp.authorize(_start(client), sub="ada-1"))
        traveller.shift(11 * 60)  # the person came back 11 minutes later
        with caplog.at_level(logging.INFO, logger="pmhub.sso"):
            response = client.get(callback)
    assert response.status_code == 400 and b"took too long" in response.content
    assert "reason=stale_state" in caplog.text and "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_an_address_the_provider_does_not_vouch_for_is_refused(client, idp, oidc_provider):
    idp.set_user("ada-1", email="ada@acme.test", email_verified=False, groups=[])
    response = client.get(_callback_path(idp.authorize(_start(client), sub="ada-1")))
    assert response.status_code == 400 and b"not verified" in response.content
    idp.set_user("ada-2", email="not an address@acme.test", email_verified=True, groups=[])
    response = client.get(_callback_path(idp.authorize(_start(client), sub="ada-2")))
    assert response.status_code == 400 and b"did not send an e-mail address" in response.content
    assert not User.objects.filter(email__endswith="acme.test").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("asked", "landing"), [("/notifications/?tab=all", "/notifications/?tab=all"),
                                                ("https://evil.example/", "/"), ("//evil.example", "/")])
def test_the_sign_in_ends_where_it_was_asked_to_when_that_is_on_the_site(client, idp, oidc_provider, asked, landing):
    idp.set_user("ada-1", email="ada@acme.test", email_verified=True, groups=[])
    response = client.post(f"/sso/?next={asked}", {"email": "ada@acme.test", "next": asked})
    response = client.get(response["Location"])
    response = client.get(_callback_path(idp.authorize(response["Location"], sub="ada-1")))
    assert response.status_code == 302 and response["Location"] == landing


@pytest.mark.django_db
def test_keys_rotated_at_the_provider_are_fetched_again(client, idp, oidc_provider):
    from authlib import jose

    assert _sign_in(client, idp).status_code == 302  # the key set is now cached
    client.logout()
    storage = idp._storage["s"]
    previous = storage.jwk
    storage.jwk = jose.RSAKey.generate_key(is_private=True)  # the provider rotates its signing key
    try:
        response = _sign_in(client, idp)
    finally:
        storage.jwk = previous
    assert response.status_code == 302 and "_auth_user_id" in client.session
