"""Workspace isolation and roles on the core pages and API."""

import pytest
from django.urls import reverse

from pmhub.models import Membership, Role, Workspace

pytestmark = pytest.mark.django_db

WORKSPACE_PAGES = ["workspace_home", "members", "activity"]


@pytest.mark.parametrize("name", WORKSPACE_PAGES + ["workspace_settings"])
def test_member_of_another_workspace_gets_404_on_pages(client_as, outsider, workspace, admin, name):
    response = client_as(outsider).get(reverse(name, kwargs={"ws": workspace.slug}))
    assert response.status_code == 404


@pytest.mark.parametrize("name", WORKSPACE_PAGES)
def test_viewer_sees_workspace_pages(client_as, viewer, workspace, name):
    assert client_as(viewer).get(reverse(name, kwargs={"ws": workspace.slug})).status_code == 200


def test_viewer_cannot_invite(client_as, viewer, workspace):
    response = client_as(viewer).post(reverse("members", kwargs={"ws": workspace.slug}),
                                      {"email": "x@example.com", "role": Role.ADMIN})
    assert response.status_code == 403
    assert not workspace.invitations.exists()


def test_editor_cannot_change_roles(client_as, editor, viewer, workspace):
    membership = Membership.objects.get(user=viewer, workspace=workspace)
    response = client_as(editor).post(
        reverse("member_role", kwargs={"ws": workspace.slug, "membership_id": membership.id}), {"role": Role.ADMIN})
    assert response.status_code == 403
    membership.refresh_from_db()
    assert membership.role == Role.VIEWER


def test_admin_cannot_touch_membership_of_another_workspace(client_as, admin, outsider, workspace, other_workspace):
    foreign = Membership.objects.get(user=outsider)
    response = client_as(admin).post(
        reverse("member_remove", kwargs={"ws": workspace.slug, "membership_id": foreign.id}))
    assert response.status_code == 404
    assert Membership.objects.filter(id=foreign.id).exists()


def test_api_lists_only_own_workspaces(api, admin, outsider, workspace, other_workspace):
    api.force_authenticate(admin)
    response = api.get("/api/v1/workspaces/")
    assert response.status_code == 200
    assert [w["slug"] for w in response.json()["results"]] == ["acme"]


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_api_outsider_gets_404_on_foreign_workspace(api, outsider, workspace, method):
    api.force_authenticate(outsider)
    response = getattr(api, method)(f"/api/v1/workspaces/{workspace.id}/", {"name": "pwned"}, format="json")
    # Workspaces cannot be deleted through the API: 405 for everyone, which reveals nothing.
    assert response.status_code == (405 if method == "delete" else 404)
    workspace.refresh_from_db()
    assert workspace.name == "Acme"


def test_api_viewer_cannot_rename_workspace(api, viewer, workspace):
    api.force_authenticate(viewer)
    response = api.patch(f"/api/v1/workspaces/{workspace.id}/", {"name": "Renamed"}, format="json")
    assert response.status_code == 403
    assert Workspace.objects.get(id=workspace.id).name == "Acme"


def test_api_admin_renames_workspace(api, admin, workspace):
    api.force_authenticate(admin)
    response = api.patch(f"/api/v1/workspaces/{workspace.id}/", {"name": "Acme Corp", "version": workspace.version},
                         format="json")
    assert response.status_code == 200
    assert response.json()["name"] == "Acme Corp"


def test_api_bad_input_gets_400_with_field_errors(api, admin, workspace):
    api.force_authenticate(admin)
    response = api.post("/api/v1/workspaces/", {"name": "", "time_zone": "Mars/Olympus"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and "name" in body["errors"]
    assert Workspace.objects.count() == 1


def test_api_unknown_time_zone_is_a_field_error(api, admin):
    api.force_authenticate(admin)
    response = api.post("/api/v1/workspaces/", {"name": "New", "time_zone": "Mars/Olympus"}, format="json")
    assert response.status_code == 400
    assert "time_zone" in response.json()["errors"]


def test_anonymous_api_is_refused(api, workspace):
    assert api.get("/api/v1/workspaces/").status_code in (401, 403)


def test_members_list_of_foreign_workspace_is_404(api, outsider, workspace):
    api.force_authenticate(outsider)
    assert api.get(f"/api/v1/workspaces/{workspace.id}/members/").status_code == 404


def test_workspace_list_query_count_is_fixed(api, admin, django_assert_max_num_queries):
    from tests.factories import MembershipFactory, WorkspaceFactory

    for _ in range(10):
        MembershipFactory(user=admin, workspace=WorkspaceFactory(), role=Role.ADMIN)
    api.force_authenticate(admin)
    with django_assert_max_num_queries(4):
        response = api.get("/api/v1/workspaces/")
    assert response.json()["count"] == 11
