"""/api/v1/scim/tokens/: admins create (the key once), list and revoke their workspaces' SCIM tokens."""

import pytest

from pmhub.models import Activity, Role
from scim.models import ScimToken
from tests.factories import MembershipFactory, UserFactory, make_token

from .conftest import ScimClient, make_scim_token

pytestmark = pytest.mark.django_db
URL = "/api/v1/scim/tokens/"


def _api(user, workspace):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {make_token(user=user, workspace=workspace)}")
    return client


def test_scim_token_create_returns_the_key_once_and_stores_its_hash(workspace, admin):
    api = _api(admin, workspace)
    response = api.post(URL, {"workspace": workspace.id, "name": "Okta"}, format="json")
    assert response.status_code == 201
    raw = response.data["token"]
    assert raw.startswith("pmscim_") and response.data["prefix"] == raw[:14]
    token = ScimToken.objects.get(pk=response.data["id"])
    assert token.key_hash != raw and raw not in str(token.__dict__) and token.created_by == admin
    assert "token" not in api.get(f"{URL}{token.id}/").data
    assert "key_hash" not in api.get(URL).data["results"][0]
    assert ScimClient(raw).get("Users").status_code == 200  # the key works at /scim/v2/
    assert Activity.objects.filter(workspace=workspace, verb="created SCIM token").exists()


def test_scim_token_revoke_through_delete_stops_it_at_once(workspace, admin):
    token, raw = make_scim_token(workspace)
    api = _api(admin, workspace)
    assert api.delete(f"{URL}{token.id}/").status_code == 204
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert ScimClient(raw).get("Users").status_code == 401
    assert api.get(f"{URL}{token.id}/").data["revoked_at"] is not None


@pytest.mark.parametrize("role", [Role.VIEWER, Role.EDITOR])
def test_members_below_admin_cannot_see_create_or_revoke(workspace, admin, role):
    token, raw = make_scim_token(workspace)
    member = UserFactory()
    MembershipFactory(user=member, workspace=workspace, role=role)
    api = _api(member, workspace)
    assert api.get(f"{URL}{token.id}/").status_code == 403
    assert api.delete(f"{URL}{token.id}/").status_code == 403
    assert api.post(URL, {"workspace": workspace.id, "name": "Mine"}, format="json").status_code == 403
    assert api.get(URL).status_code == 403
    assert ScimToken.objects.count() == 1 and ScimToken.objects.get().revoked_at is None
    assert ScimClient(raw).get("Users").status_code == 200


def test_an_admin_of_another_workspace_gets_404_and_changes_nothing(workspace, other_workspace):
    token, raw = make_scim_token(workspace)
    stranger = UserFactory()
    MembershipFactory(user=stranger, workspace=other_workspace, role=Role.ADMIN)
    api = _api(stranger, other_workspace)
    assert api.get(f"{URL}{token.id}/").status_code == 404
    assert api.delete(f"{URL}{token.id}/").status_code == 404
    assert api.post(URL, {"workspace": workspace.id, "name": "Mine"}, format="json").status_code == 404
    assert token.id not in [t["id"] for t in api.get(URL).data["results"]]
    assert ScimToken.objects.filter(workspace=workspace).count() == 1
    assert ScimClient(raw).get("Users").status_code == 200


def test_a_token_needs_a_name(workspace, admin):
    api = _api(admin, workspace)
    response = api.post(URL, {"workspace": workspace.id, "name": " "}, format="json")
    assert response.status_code == 400
    assert not ScimToken.objects.exists()
    assert api.post(URL, {"workspace": workspace.id, "name": "Entra"}, format="json").status_code == 201
