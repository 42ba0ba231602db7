"""A verified domain that requires SSO refuses passwords on every path that takes one: the site's
sign-in form, the admin's, and the password-reset link (which would set a password and sign in)."""

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from tests.factories import PASSWORD, UserFactory

from .factories import SsoDomainFactory


@pytest.fixture
def ada(workspace):
    SsoDomainFactory(workspace=workspace, domain="acme.test", require_sso=True)
    return UserFactory(email="ada@acme.test", is_staff=True)


def _reset_url(client, user):
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    response = client.get(f"/accounts/reset/{uid}/{default_token_generator.make_token(user)}/")
    assert response.status_code == 302  # Django swaps the token for a session-held one
    return response["Location"]


@pytest.mark.django_db
def test_password_reset_link_does_not_set_a_password_or_sign_in_when_sso_is_required(client, ada):
    url = _reset_url(client, ada)
    response = client.post(url, {"new_password1": "An0ther-long-pass", "new_password2": "An0ther-long-pass"})
    assert response.status_code == 200 and b"single sign-on" in response.content
    ada.refresh_from_db()
    assert ada.check_password(PASSWORD) and "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_password_reset_link_works_for_an_address_whose_domain_does_not_require_sso(client, workspace):
    SsoDomainFactory(workspace=workspace, domain="acme.test", require_sso=False)
    grace = UserFactory(email="grace@acme.test")
    url = _reset_url(client, grace)
    response = client.post(url, {"new_password1": "An0ther-long-pass", "new_password2": "An0ther-long-pass"})
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(grace.pk)


@pytest.mark.django_db
def test_admin_sign_in_refuses_the_password_too(client, ada):
    response = client.post("/admin/login/", {"username": "ada@acme.test", "password": PASSWORD})
    assert response.status_code == 200 and b"single sign-on" in response.content
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_refused_password_is_not_counted_as_a_failed_guess(client, ada, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    for _ in range(3):
        client.post("/accounts/login/", {"username": "ada@acme.test", "password": PASSWORD})
    from sso.models import SsoDomain

    SsoDomain.objects.update(require_sso=False)
    response = client.post("/accounts/login/", {"username": "ada@acme.test", "password": PASSWORD})
    assert response.status_code == 302  # not locked out by the refusals
