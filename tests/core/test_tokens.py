"""Personal API tokens: shown once, stored hashed, scoped to one workspace, revocable."""

import pytest
from django.urls import reverse

from pmhub.models import ApiToken, Membership, Role, hash_secret
from tests.factories import MembershipFactory, WorkspaceFactory, make_token

pytestmark = pytest.mark.django_db


def test_token_created_in_browser_is_shown_once_and_stored_hashed(client_as, editor, workspace):
    client = client_as(editor)
    response = client.post(reverse("api_tokens"), {"name": "CI", "workspace": workspace.id, "scope": "read"})
    assert response.status_code == 200
    raw = response.context["new_key"]
    assert raw.startswith("pmh_")
    token = ApiToken.objects.get(user=editor)
    assert token.key_hash == hash_secret(raw)
    assert raw not in token.key_hash
    assert raw not in client.get(reverse("api_tokens")).content.decode()


def test_token_calls_api_and_records_last_use(api, editor, workspace):
    raw = make_token(user=editor, workspace=workspace, scope="read")
    api.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    response = api.get("/api/v1/workspaces/")
    assert response.status_code == 200
    assert response.json()["results"][0]["slug"] == "acme"
    assert ApiToken.objects.get(user=editor).last_used_at is not None


def test_token_sees_only_its_workspace(api, editor, workspace):
    second = WorkspaceFactory(name="Second")
    MembershipFactory(user=editor, workspace=second, role=Role.ADMIN)
    api.credentials(HTTP_AUTHORIZATION=f"Token {make_token(user=editor, workspace=workspace)}")
    slugs = [w["slug"] for w in api.get("/api/v1/workspaces/").json()["results"]]
    assert slugs == ["acme"]
    assert api.get(f"/api/v1/workspaces/{second.id}/").status_code == 404


def test_read_only_token_cannot_write(api, admin, workspace):
    api.credentials(HTTP_AUTHORIZATION=f"Token {make_token(user=admin, workspace=workspace, scope='read')}")
    response = api.patch(f"/api/v1/workspaces/{workspace.id}/", {"name": "Nope"}, format="json")
    assert response.status_code == 403
    workspace.refresh_from_db()
    assert workspace.name == "Acme"


def test_read_write_token_can_write_with_owner_role(api, admin, workspace):
    api.credentials(HTTP_AUTHORIZATION=f"Token {make_token(user=admin, workspace=workspace, scope='write')}")
    assert api.patch(f"/api/v1/workspaces/{workspace.id}/", {"name": "Yes", "version": workspace.version},
                     format="json").status_code == 200


def test_revoked_token_is_refused_at_once(client_as, api, editor, workspace):
    raw = make_token(user=editor, workspace=workspace)
    api.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    assert api.get("/api/v1/workspaces/").status_code == 200
    token = ApiToken.objects.get(user=editor)
    client_as(editor).post(reverse("api_token_revoke", kwargs={"token_id": token.id}))
    assert api.get("/api/v1/workspaces/").status_code == 401


def test_removed_member_token_is_refused_at_once(api, editor, workspace):
    raw = make_token(user=editor, workspace=workspace)
    Membership.objects.filter(user=editor).delete()
    api.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    assert api.get("/api/v1/workspaces/").status_code == 401


def test_unknown_token_is_401(api, workspace):
    api.credentials(HTTP_AUTHORIZATION="Token pmh_nope")
    assert api.get("/api/v1/workspaces/").status_code == 401


def test_cannot_revoke_someone_elses_token(client_as, editor, viewer, workspace):
    make_token(user=editor, workspace=workspace)
    token = ApiToken.objects.get(user=editor)
    response = client_as(viewer).post(reverse("api_token_revoke", kwargs={"token_id": token.id}))
    assert response.status_code == 404
    assert ApiToken.objects.get(id=token.id).revoked_at is None


def test_token_for_foreign_workspace_is_refused(client_as, editor, other_workspace):
    response = client_as(editor).post(reverse("api_tokens"), {"name": "x", "workspace": other_workspace.id,
                                                              "scope": "write"})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()
