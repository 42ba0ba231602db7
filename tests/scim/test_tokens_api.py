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


GROUPS = "/api/v1/scim/groups/"


def test_scim_group_role_is_set_through_the_api_and_members_follow(workspace, admin):
    from pmhub.models import Membership
    from scim.models import ScimGroup, ScimUser

    member = UserFactory()
    Membership.objects.create(user=member, workspace=workspace, role=Role.VIEWER)
    group = ScimGroup.objects.create(workspace=workspace, display_name="Leads")
    group.members.add(ScimUser.objects.create(workspace=workspace, user=member, user_name="m"))
    api = _api(admin, workspace)
    listed = api.get(GROUPS).data["results"]
    assert [(g["display_name"], g["member_count"], g["role"]) for g in listed] == [("Leads", 1, None)]
    response = api.patch(f"{GROUPS}{group.id}/", {"role": Role.EDITOR, "version": group.version}, format="json")
    assert response.status_code == 200 and response.data["role"] == Role.EDITOR and response.data["version"] == 2
    assert Membership.objects.get(user=member, workspace=workspace).role == Role.EDITOR
    stale = api.patch(f"{GROUPS}{group.id}/", {"role": Role.ADMIN, "version": 1}, format="json")
    assert stale.status_code == 409
    assert api.patch(f"{GROUPS}{group.id}/", {"role": None, "version": 2}, format="json").data["role"] is None


def test_group_role_api_is_for_admins_of_the_groups_workspace(workspace, other_workspace, admin):
    from scim.models import ScimGroup

    group = ScimGroup.objects.create(workspace=workspace, display_name="Leads")
    stranger = UserFactory()
    MembershipFactory(user=stranger, workspace=other_workspace, role=Role.ADMIN)
    outsider = _api(stranger, other_workspace)
    assert outsider.get(f"{GROUPS}{group.id}/").status_code == 404
    assert outsider.patch(f"{GROUPS}{group.id}/", {"role": 30, "version": 1}, format="json").status_code == 404
    assert outsider.put(f"{GROUPS}{group.id}/", {"role": 30, "version": 1}, format="json").status_code == 404
    assert outsider.get(GROUPS).data["results"] == []
    for role in (Role.VIEWER, Role.EDITOR):
        member = UserFactory()
        MembershipFactory(user=member, workspace=workspace, role=role)
        api = _api(member, workspace)
        assert api.get(f"{GROUPS}{group.id}/").status_code == 403
        assert api.patch(f"{GROUPS}{group.id}/", {"role": 30, "version": 1}, format="json").status_code == 403
    group.refresh_from_db()
    assert group.role is None and group.version == 1
    ok = _api(admin, workspace).patch(f"{GROUPS}{group.id}/", {"role": 30, "version": 1}, format="json")
    assert ok.status_code == 200
