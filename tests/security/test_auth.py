"""Authentication: sign-in throttled per account and per address (and a success never clears
someone else's counter), password validators, tokens stored hashed, revocation and removal
effective at once."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from pmhub.models import ApiToken, Membership, User, hash_secret
from pmhub.services import api_tokens_revoke, signup_token
from tests.factories import PASSWORD, make_token

pytestmark = pytest.mark.django_db

THROTTLED = "Too many failed sign-in attempts"


def _sign_in(client, email, password, addr="10.0.0.1"):
    return client.post(reverse("login"), {"username": email, "password": password}, REMOTE_ADDR=addr)


def test_account_throttle_holds_across_addresses(client, admin, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for n in range(3):
        _sign_in(client, admin.email, "wrong", addr=f"10.0.1.{n}")
    response = _sign_in(client, admin.email, PASSWORD, addr="10.0.2.1")
    assert THROTTLED in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_account_throttle_ignores_case_and_spaces(client, admin, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for n, variant in enumerate([admin.email.upper(), f" {admin.email} ", admin.email.title()]):
        _sign_in(client, variant, "wrong", addr=f"10.0.3.{n}")
    assert THROTTLED in _sign_in(client, admin.email, PASSWORD, addr="10.0.4.1").content.decode()


def test_a_success_does_not_reset_another_accounts_counter(client, admin, viewer, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for n in range(2):
        _sign_in(client, admin.email, "wrong", addr=f"10.0.5.{n}")
    other = client.__class__()
    assert _sign_in(other, viewer.email, PASSWORD, addr="10.0.6.1").status_code == 302
    _sign_in(client, admin.email, "wrong", addr="10.0.5.9")
    assert THROTTLED in _sign_in(client, admin.email, PASSWORD, addr="10.0.7.1").content.decode()


def test_a_success_does_not_reset_the_address_counter(client, admin, viewer, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for n in range(2):
        _sign_in(client, f"ghost{n}@example.com", "wrong")
    assert _sign_in(client.__class__(), viewer.email, PASSWORD).status_code == 302
    _sign_in(client, "ghost9@example.com", "wrong")
    assert THROTTLED in _sign_in(client.__class__(), admin.email, PASSWORD).content.decode()


def test_throttled_sign_in_does_not_reveal_whether_the_password_was_right(client, admin, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    for _ in range(2):
        _sign_in(client, admin.email, "wrong")
    right = _sign_in(client, admin.email, PASSWORD).content.decode()
    wrong = _sign_in(client, admin.email, "wrong-again").content.decode()
    assert THROTTLED in right and THROTTLED in wrong


def test_sign_in_failures_expire_with_the_window(client, admin, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    for _ in range(2):
        _sign_in(client, admin.email, "wrong")
    cache.clear()  # the window elapsed (keys carry LOGIN_FAILURE_WINDOW as their TTL)
    assert _sign_in(client, admin.email, PASSWORD).status_code == 302


@pytest.mark.parametrize("password", ["short9", "password123", "1234567890123", "acme-admin-acme"])
def test_signup_refuses_weak_passwords(client, password):
    response = client.post(reverse("signup_confirm", args=[signup_token(email="acme-admin@example.com", name="")]),
                           {"password": password})
    assert response.status_code == 400
    assert "password" in response.context["form"].errors
    assert not User.objects.filter(email="acme-admin@example.com").exists()


def test_passwords_are_stored_hashed(client):
    client.post(reverse("signup_confirm", args=[signup_token(email="new@example.com", name="N")]),
                {"password": "a-long-unusual-phrase-77"})
    user = User.objects.get(email="new@example.com")
    assert "a-long-unusual-phrase-77" not in user.password
    assert user.password.startswith(("pbkdf2_", "argon2", "bcrypt", "md5$"))


def test_tokens_are_stored_hashed(admin, workspace):
    raw = make_token(user=admin, workspace=workspace)
    token = ApiToken.objects.get(user=admin)
    assert token.key_hash == hash_secret(raw) and raw not in (token.key_hash, token.prefix, token.name)
    assert len(token.prefix) < len(raw) - 20


def test_revoked_token_is_refused_on_the_next_call(api_as, admin, workspace):
    from rest_framework.test import APIClient

    raw = make_token(user=admin, workspace=workspace)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    assert client.get("/api/v1/workspaces/").status_code == 200
    # Revocation goes through api_tokens_revoke, which also forgets the cached token (tokencache).
    assert api_tokens_revoke(ApiToken.objects.filter(key_hash=hash_secret(raw))) == 1
    response = client.get("/api/v1/workspaces/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_removed_member_is_refused_at_once_by_token_and_session(api_as, client_as, editor, workspace):
    client = api_as(editor)
    session = client_as(editor)
    assert client.get("/api/v1/workspaces/").status_code == 200
    Membership.objects.filter(user=editor, workspace=workspace).delete()
    assert client.get("/api/v1/workspaces/").status_code == 401
    assert session.get(reverse("workspace_home", kwargs={"ws": workspace.slug})).status_code == 404
    # With no workspace left the role check refuses first (403) - the same answer for any id, so no oracle.
    existing = session.get(f"/api/v1/workspaces/{workspace.id}/").status_code
    assert existing in (403, 404)
    assert session.get("/api/v1/workspaces/999999/").status_code == existing


def test_deactivated_user_token_is_refused(api_as, editor):
    client = api_as(editor)
    User.objects.filter(pk=editor.pk).update(is_active=False)
    assert client.get("/api/v1/workspaces/").status_code == 401


def test_demoted_member_loses_write_rights_at_once(api_as, admin, editor, workspace):
    from pmhub.models import Role

    client = api_as(editor)
    Membership.objects.filter(user=editor, workspace=workspace).update(role=Role.VIEWER)
    response = client.patch(f"/api/v1/workspaces/{workspace.id}/", {"name": "X"}, format="json")
    assert response.status_code == 403
