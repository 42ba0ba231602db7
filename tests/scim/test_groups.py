"""SCIM Groups: create, list/filter, replace, PATCH of members, delete; and the roles they map."""

import pytest

from pmhub.models import Activity, Membership, Role, User
from scim import services
from scim.models import ScimGroup, ScimUser
from scim.selectors import config_of

from .conftest import group_body, patch_body, user_body

pytestmark = pytest.mark.django_db


def _user(scim, name):
    response = scim.post("Users", user_body(f"{name}@acme.test"))
    assert response.status_code == 201, response.body
    return response.body["id"]


def _role(workspace, name):
    return Membership.objects.get(workspace=workspace, user__email=f"{name}@acme.test").role


def _group(scim, name="Engineering", members=()):
    response = scim.post("Groups", group_body(name, members))
    assert response.status_code == 201, response.body
    return response.body


def test_scim_group_create_with_members(scim, workspace):
    ada = _user(scim, "ada")
    response = scim.post("Groups", group_body("Engineering", [ada], externalId="g-1"))
    assert response.status_code == 201
    body = response.body
    assert body["displayName"] == "Engineering" and body["externalId"] == "g-1"
    assert body["members"] == [{"value": ada, "$ref": f"http://testserver/scim/v2/Users/{ada}"}]
    assert response["Location"].endswith(f"/scim/v2/Groups/{body['id']}")
    group = ScimGroup.objects.get(uid=body["id"])
    assert group.workspace == workspace and group.role is None
    assert Activity.objects.filter(workspace=workspace, verb="created SCIM group").exists()


def test_group_list_filters_by_display_name(scim):
    _group(scim, "Engineering")
    _group(scim, "Design")
    listing = scim.get("Groups", filter='displayName eq "design"').body
    assert [g["displayName"] for g in listing["Resources"]] == ["Design"]
    assert scim.get("Groups", filter='displayName sw "Eng"').body["totalResults"] == 1
    assert scim.get("Groups").body["totalResults"] == 2


def test_group_list_filters_by_member(scim):
    ada, bob = _user(scim, "ada"), _user(scim, "bob")
    _group(scim, "A", [ada])
    _group(scim, "B", [bob])
    listing = scim.get("Groups", filter=f'members.value eq "{bob}"').body
    assert [g["displayName"] for g in listing["Resources"]] == ["B"]


def test_a_duplicate_group_name_is_a_409(scim):
    _group(scim, "Engineering")
    response = scim.post("Groups", group_body("ENGINEERING"))
    assert response.status_code == 409 and response.body["scimType"] == "uniqueness"


def test_a_member_that_is_not_a_user_of_the_workspace_is_a_400(scim, other_scim):
    foreign = other_scim.post("Users", user_body("foreign@globex.test")).body["id"]
    for value in (foreign, "8d0e2a4c-0000-4000-8000-000000000000", "nope"):
        response = scim.post("Groups", group_body("Eng", [value]))
        assert response.status_code == 400 and response.body["scimType"] == "invalidValue"
        assert f"No user with id {value!r} in this workspace." == response.body["detail"]
    assert not ScimGroup.objects.exists()


def test_patch_adds_removes_and_replaces_members(scim, workspace):
    ada, bob, cy = _user(scim, "ada"), _user(scim, "bob"), _user(scim, "cy")
    group = _group(scim, "Eng", [ada])
    url = f"Groups/{group['id']}"
    added = scim.patch(url, patch_body({"op": "add", "path": "members", "value": [{"value": bob}, {"value": ada}]}))
    assert added.status_code == 200, added.body
    assert {m["value"] for m in added.body["members"]} == {ada, bob}
    removed = scim.patch(url, patch_body({"op": "remove", "path": f'members[value eq "{ada}"]'}))
    assert [m["value"] for m in removed.body["members"]] == [bob]
    # Entra ID's form: remove with the members in the value
    entra = scim.patch(url, patch_body({"op": "Remove", "path": "members", "value": [{"value": bob}]}))
    assert entra.body.get("members") is None
    replaced = scim.patch(url, patch_body({"op": "replace", "path": "members", "value": [{"value": cy}]},
                                          {"op": "replace", "path": "displayName", "value": "Engineering"}))
    assert [m["value"] for m in replaced.body["members"]] == [cy]
    assert replaced.body["displayName"] == "Engineering" and replaced.body["meta"]["version"] == 'W/"5"'


def test_scim_group_replace_sets_name_and_members(scim):
    ada, bob = _user(scim, "ada"), _user(scim, "bob")
    group = _group(scim, "Eng", [ada])
    response = scim.put(f"Groups/{group['id']}", group_body("Engineering", [bob]))
    assert response.status_code == 200
    stored = ScimGroup.objects.get(uid=group["id"])
    assert stored.display_name == "Engineering"
    assert [str(m.uid) for m in stored.members.all()] == [bob]


def test_scim_group_delete_removes_it(scim):
    group = _group(scim)
    assert scim.delete(f"Groups/{group['id']}").status_code == 204
    assert scim.get(f"Groups/{group['id']}").status_code == 404
    assert not ScimGroup.objects.exists()


def test_scim_group_set_role_gives_its_members_the_role_and_logs_it(scim, workspace, admin):
    ada = _user(scim, "ada")
    group = _group(scim, "Admins", [ada])
    row = ScimGroup.objects.get(uid=group["id"])
    services.scim_group_set_role(user=admin, group=row, role=Role.ADMIN, version=row.version)
    assert _role(workspace, "ada") == Role.ADMIN
    log = Activity.objects.get(workspace=workspace, verb="changed role", target_id=User.objects.get(
        email="ada@acme.test").pk)
    assert log.data["role"] == "Admin" and log.data["from"] == "Viewer" and log.data["via"] == "SCIM"


def test_role_is_the_highest_of_the_mapped_groups_and_falls_back_to_the_default(scim, workspace, admin):
    ada = _user(scim, "ada")
    editors = _group(scim, "Editors")
    admins = _group(scim, "Admins")
    social = _group(scim, "Social club")
    ScimGroup.objects.filter(uid=editors["id"]).update(role=Role.EDITOR)
    ScimGroup.objects.filter(uid=admins["id"]).update(role=Role.ADMIN)
    add = patch_body({"op": "add", "path": "members", "value": [{"value": ada}]})
    scim.patch(f"Groups/{social['id']}", add)
    assert _role(workspace, "ada") == Role.VIEWER  # a group without a role changes nothing
    scim.patch(f"Groups/{editors['id']}", add)
    assert _role(workspace, "ada") == Role.EDITOR
    scim.patch(f"Groups/{admins['id']}", add)
    assert _role(workspace, "ada") == Role.ADMIN
    remove = patch_body({"op": "remove", "path": f'members[value eq "{ada}"]'})
    scim.patch(f"Groups/{admins['id']}", remove)
    assert _role(workspace, "ada") == Role.EDITOR
    config = config_of(workspace_id=workspace.id)
    services.scim_config_update(user=admin, workspace=workspace, default_role=Role.EDITOR, version=config.version)
    scim.delete(f"Groups/{editors['id']}")  # out of every mapped group: the default role
    assert _role(workspace, "ada") == Role.EDITOR
    logged = Activity.objects.filter(workspace=workspace, verb="changed role").order_by("id")
    assert [a.data["role"] for a in logged] == ["Editor", "Admin", "Editor"]


def test_a_new_member_of_a_mapped_group_gets_its_role_on_reactivation(scim, workspace):
    ada = _user(scim, "ada")
    group = _group(scim, "Editors", [ada])
    ScimGroup.objects.filter(uid=group["id"]).update(role=Role.EDITOR)
    scim.patch(f"Users/{ada}", patch_body({"op": "replace", "path": "active", "value": False}))
    scim.patch(f"Users/{ada}", patch_body({"op": "replace", "path": "active", "value": True}))
    assert _role(workspace, "ada") == Role.EDITOR


def test_deleting_a_user_takes_them_out_of_their_groups(scim):
    ada = _user(scim, "ada")
    group = _group(scim, "Eng", [ada])
    scim.delete(f"Users/{ada}")
    assert scim.get(f"Groups/{group['id']}").body.get("members") is None
    assert not ScimUser.objects.exists()


def test_scim_config_update_sets_the_default_role(workspace, admin):
    config = config_of(workspace_id=workspace.id)
    services.scim_config_update(user=admin, workspace=workspace, default_role=Role.EDITOR, version=config.version)
    config.refresh_from_db()
    assert config.default_role == Role.EDITOR and config.version == 2
    assert Activity.objects.filter(workspace=workspace, verb="changed SCIM default role").exists()


def test_okta_renames_a_group_with_its_id_in_the_value(scim):
    group = _group(scim, "Old name")
    response = scim.patch(f"Groups/{group['id']}", patch_body(
        {"op": "replace", "value": {"id": group["id"], "displayName": "New name"}}))
    assert response.status_code == 200 and response.body["displayName"] == "New name"
