"""Deprovisioning ends the person's sessions at once (through the session index), and a SCIM
token sees and changes its own workspace only; a revoked or missing token is a 401."""

import pytest
from django.conf import settings
from django.contrib.sessions.backends.cached_db import KEY_PREFIX
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.test import Client

from pmhub.models import Membership, Role
from scim import services
from scim.models import ScimGroup, ScimToken, ScimUser, SessionRecord
from tests.factories import MembershipFactory, UserFactory

from .conftest import ScimClient, group_body, patch_body, user_body

pytestmark = pytest.mark.django_db


def _signed_in(email, password="correct horse battery"):
    client = Client()
    response = client.post("/accounts/login/", {"username": email, "password": password})
    assert response.status_code == 302, "sign-in failed"
    assert client.get("/").status_code in (200, 302)
    return client


def test_the_session_index_records_each_signed_in_session_once(workspace, django_assert_max_num_queries):
    user = UserFactory(email="ada@acme.test", password="correct horse battery")
    MembershipFactory(user=user, workspace=workspace, role=Role.VIEWER)
    first, second = _signed_in(user.email), _signed_in(user.email)
    keys = set(SessionRecord.objects.filter(user=user).values_list("session_key", flat=True))
    assert keys == {first.session.session_key, second.session.session_key}
    first.get(f"/w/{workspace.slug}/")
    assert SessionRecord.objects.filter(user=user).count() == 2  # nothing more written


def test_sessions_end_deletes_every_session_of_the_person(workspace):
    user = UserFactory(email="ada@acme.test", password="correct horse battery")
    bystander = UserFactory(email="bob@acme.test", password="correct horse battery")
    for u in (user, bystander):
        MembershipFactory(user=u, workspace=workspace, role=Role.VIEWER)
    phone, laptop, bob = _signed_in(user.email), _signed_in(user.email), _signed_in(bystander.email)
    keys = [phone.session.session_key, laptop.session.session_key]
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.cached_db"
    assert all(cache.get(KEY_PREFIX + key) is not None for key in keys)
    assert services.sessions_end(user_id=user.pk) == 2
    assert not Session.objects.filter(session_key__in=keys).exists()
    assert all(cache.get(KEY_PREFIX + key) is None for key in keys)
    assert phone.get(f"/w/{workspace.slug}/").status_code == 302  # back to the sign-in page
    assert bob.get(f"/w/{workspace.slug}/").status_code == 200


def test_deprovisioning_ends_the_sessions_at_once(scim, workspace):
    body = scim.post("Users", user_body("ada@acme.test")).body
    user = ScimUser.objects.get(uid=body["id"]).user
    user.set_password("correct horse battery")
    user.save()
    browser = _signed_in(user.email)
    assert browser.get(f"/w/{workspace.slug}/").status_code == 200
    scim.patch(f"Users/{body['id']}", patch_body({"op": "replace", "path": "active", "value": False}))
    response = browser.get(f"/w/{workspace.slug}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not SessionRecord.objects.filter(user=user).exists()


def test_a_password_change_rotates_the_key_and_the_new_key_is_indexed(workspace):
    user = UserFactory(email="ada@acme.test", password="correct horse battery")
    MembershipFactory(user=user, workspace=workspace, role=Role.VIEWER)
    browser = _signed_in(user.email)
    old = browser.session.session_key
    response = browser.post("/accounts/password_change/", {
        "old_password": "correct horse battery", "new_password1": "another long passphrase 9",
        "new_password2": "another long passphrase 9"})
    assert response.status_code == 302
    new = browser.session.session_key
    assert new != old and SessionRecord.objects.filter(user=user, session_key=new).exists()
    services.sessions_end(user_id=user.pk)
    assert browser.get(f"/w/{workspace.slug}/").status_code == 302


# --- tenancy ------------------------------------------------------------------------------------
def test_a_token_never_sees_or_changes_another_workspaces_users_and_groups(scim, other_scim, other_workspace):
    theirs = other_scim.post("Users", user_body("carol@globex.test")).body
    their_group = other_scim.post("Groups", group_body("Globex staff", [theirs["id"]])).body
    assert scim.get("Users").body["totalResults"] == 0
    assert scim.get("Groups").body["totalResults"] == 0
    assert scim.get("Users", filter='userName eq "carol@globex.test"').body["Resources"] == []
    for path in (f"Users/{theirs['id']}", f"Groups/{their_group['id']}"):
        assert scim.get(path).status_code == 404
        assert scim.put(path, user_body("x@acme.test") if "Users" in path else group_body("X")).status_code == 404
        assert scim.patch(path, patch_body({"op": "replace", "path": "active", "value": False})).status_code == 404
        assert scim.delete(path).status_code == 404
    carol = ScimUser.objects.get(uid=theirs["id"])
    assert carol.active is True and carol.version == 1
    assert Membership.objects.filter(user=carol.user, workspace=other_workspace).exists()
    assert ScimGroup.objects.get(uid=their_group["id"]).members.count() == 1


def test_the_same_person_in_two_workspaces_is_two_resources(scim, other_scim, workspace, other_workspace):
    mine = scim.post("Users", user_body("both@acme.test", externalId="A-1")).body
    theirs = other_scim.post("Users", user_body("both@acme.test", externalId="B-9")).body
    assert mine["id"] != theirs["id"]
    scim.delete(f"Users/{mine['id']}")
    assert other_scim.get(f"Users/{theirs['id']}").body["externalId"] == "B-9"
    assert Membership.objects.filter(workspace=other_workspace, user__email="both@acme.test").exists()
    assert ScimUser.objects.get(uid=theirs["id"]).user.is_active


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer wrong", "Basic dXNlcjpwYXNz", "Token pmh_x"])
def test_a_missing_or_wrong_token_is_a_401(header, scim):
    client = ScimClient(None)
    if header:
        client.headers = {"Authorization": header}
    for path in ("Users", "Groups", "ServiceProviderConfig", "Schemas", "Nowhere"):
        response = client.get(path)
        assert response.status_code == 401
        assert response.body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
        assert response["WWW-Authenticate"].startswith("Bearer")
    assert client.post("Users", user_body()).status_code == 401
    assert not ScimUser.objects.exists()
    assert scim.get("Users").status_code == 200  # the real token is accepted


def test_a_revoked_token_is_a_401_at_once(scim, scim_token, admin):
    assert scim.get("Users").status_code == 200
    services.scim_token_revoke(user=admin, token=scim_token[0])
    assert ScimToken.objects.get(pk=scim_token[0].pk).revoked_at is not None
    response = scim.get("Users")
    assert response.status_code == 401 and response.body["detail"] == "Invalid or revoked SCIM token."


def test_scim_token_authenticate_records_the_last_use(scim, scim_token):
    assert scim_token[0].last_used_at is None
    scim.get("ServiceProviderConfig")
    assert services.scim_token_authenticate(scim_token[1]).last_used_at is not None
    assert services.scim_token_authenticate("pmscim_wrong") is None


def test_a_personal_api_token_is_not_a_scim_token(workspace, admin):
    from tests.factories import make_token

    client = ScimClient(make_token(user=admin, workspace=workspace))
    assert client.get("Users").status_code == 401


def test_session_index_prune_forgets_ended_sessions_only(workspace):
    from scim.tasks import session_index_prune

    user = UserFactory(email="ada@acme.test", password="correct horse battery")
    MembershipFactory(user=user, workspace=workspace, role=Role.VIEWER)
    kept, gone = _signed_in(user.email), _signed_in(user.email)
    gone_key = gone.session.session_key
    gone.post("/accounts/logout/")
    SessionRecord.objects.create(user=user, session_key="never-existed")
    assert session_index_prune.delay().get() == 2
    assert set(SessionRecord.objects.values_list("session_key", flat=True)) == {kept.session.session_key}
    assert gone_key not in SessionRecord.objects.values_list("session_key", flat=True)


def test_the_prune_task_is_on_the_beat_schedule():
    from pmhub.settings import CELERY_BEAT_SCHEDULE
    from scim.tasks import session_index_prune

    assert CELERY_BEAT_SCHEDULE["scim-session-index-prune"]["task"] == session_index_prune.name


def test_guessing_tokens_from_one_address_is_slowed_to_429(scim):
    from scim.scim_views import AUTH_FAILURE_LIMIT

    guesser = ScimClient("pmscim_guess")
    for _ in range(AUTH_FAILURE_LIMIT):
        assert guesser.get("Users").status_code == 401
    response = guesser.get("Users")
    assert response.status_code == 429 and response["Retry-After"] == "300"
    assert response.body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    cache.clear()  # the window passes
    assert scim.get("Users").status_code == 200
