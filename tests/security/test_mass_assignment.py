"""A write cannot set workspace, role, a token's owner, computed fields, timestamps or ids."""

import pytest
from django.urls import reverse

from pmhub.models import ApiToken, Invitation, Membership, Notification, Role, User, Workspace

from .massassign import hostile_payload, protected_fields, protected_snapshot

pytestmark = pytest.mark.django_db


def test_protected_fields_of_core_models():
    assert {"id", "workspace_id", "user_id", "key_hash", "created_at"} <= set(protected_fields(ApiToken))
    assert {"id", "slug", "created_at"} <= set(protected_fields(Workspace))


def test_api_workspace_update_ignores_ids_slug_times_and_computed_fields(api_as, admin, workspace, other_workspace,
                                                                          outsider):
    before = protected_snapshot(workspace)
    payload = {"name": "Renamed", "member_count": 999} | hostile_payload(
        Workspace, other_workspace=other_workspace, other_user=outsider)
    for method in ("patch", "put"):
        # The version read is the one field of the snapshot a write may change (one step each time).
        version = Workspace.objects.get(pk=workspace.pk).version
        response = getattr(api_as(admin), method)(f"/api/v1/workspaces/{workspace.id}/",
                                                  payload | {"time_zone": "UTC", "version": version}, format="json")
        assert response.status_code == 200, response.content
        assert response.json()["member_count"] == 1 and response.json()["role"] == "admin"
    after = protected_snapshot(workspace)
    assert after.pop("version") == before.pop("version") + 2
    assert after == before
    assert Workspace.objects.get(pk=workspace.pk).name == "Renamed"


def test_api_workspace_create_ignores_id_slug_and_role(api_as, viewer, other_workspace, outsider):
    payload = {"name": "Mine", "time_zone": "UTC"} | hostile_payload(
        Workspace, other_workspace=other_workspace, other_user=outsider)
    response = api_as(viewer).post("/api/v1/workspaces/", payload, format="json")
    assert response.status_code == 201
    created = Workspace.objects.get(pk=response.json()["id"])
    assert created.pk != 10**9 and created.slug != "pwned" and created.created_at.year > 2000
    assert Membership.objects.get(workspace=created).user == viewer
    assert not Membership.objects.filter(workspace=created, user=outsider).exists()


def test_mark_read_cannot_touch_someone_elses_notifications(api_as, admin, outsider, other_workspace):
    theirs = Notification.objects.create(recipient=outsider, workspace=other_workspace, kind="other", title="t")
    response = api_as(admin).post("/api/v1/notifications/mark_read/", {"ids": [theirs.id]}, format="json")
    assert response.status_code == 200 and response.json() == {"marked": 0}
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_token_form_ignores_owner_hash_and_times(client_as, editor, workspace, outsider, other_workspace):
    payload = {"name": "CI", "workspace": workspace.id, "scope": "write"} | {
        k: v for k, v in hostile_payload(ApiToken, other_workspace=other_workspace, other_user=outsider).items()
        if k not in ("workspace", "workspace_id")}
    response = client_as(editor).post(reverse("api_tokens"), payload)
    assert response.status_code == 200
    token = ApiToken.objects.get(name="CI")
    assert token.user == editor and token.workspace == workspace
    assert token.key_hash != "pwned" and token.prefix.startswith("pmh_") and token.revoked_at is None
    assert not ApiToken.objects.filter(user=outsider).exists()


def test_token_form_refuses_a_foreign_workspace(client_as, editor, other_workspace):
    response = client_as(editor).post(reverse("api_tokens"), {"name": "x", "workspace": other_workspace.id,
                                                              "scope": "write"})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_invitation_form_ignores_workspace_and_secrets(client_as, admin, workspace, other_workspace, outsider):
    payload = {"email": "new@example.com", "role": Role.EDITOR} | {
        k: v for k, v in hostile_payload(Invitation, other_workspace=other_workspace, other_user=outsider).items()
        if k != "role"}
    response = client_as(admin).post(reverse("members", kwargs={"ws": workspace.slug}), payload)
    assert response.status_code == 302
    invitation = Invitation.objects.get(email="new@example.com")
    assert invitation.workspace == workspace and invitation.invited_by == admin
    assert invitation.token_hash != "pwned" and invitation.accepted_at is None
    assert not other_workspace.invitations.exists()


def test_role_form_changes_only_the_role(client_as, admin, editor, workspace, other_workspace, outsider):
    membership = Membership.objects.get(user=editor, workspace=workspace)
    response = client_as(admin).post(
        reverse("member_role", kwargs={"ws": workspace.slug, "membership_id": membership.id}),
        {"role": Role.VIEWER, "user": outsider.id, "workspace": other_workspace.id, "user_id": outsider.id})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert (membership.user, membership.workspace, membership.role) == (editor, workspace, Role.VIEWER)


def test_settings_form_ignores_slug_and_id(client_as, admin, workspace):
    before = protected_snapshot(workspace)
    client_as(admin).post(reverse("workspace_settings", kwargs={"ws": workspace.slug}),
                          {"name": "New", "time_zone": "UTC", "slug": "pwned", "id": 10**9})
    assert protected_snapshot(workspace) == before


def test_signup_cannot_make_staff_or_superuser(client):
    from pmhub.services import signup_token

    extra = {"is_staff": "on", "is_superuser": "on", "is_active": "on", "date_joined": "2000-01-01"}
    client.post(reverse("signup"), {"email": "sneaky@example.com", **extra})
    client.post(reverse("signup_confirm", args=[signup_token(email="sneaky@example.com", name="")]),
                {"password": "a-long-unusual-phrase-77", "email": "other@example.com", **extra})
    user = User.objects.get(email="sneaky@example.com")
    assert not user.is_staff and not user.is_superuser and user.date_joined.year > 2000


def test_mark_read_with_ids_of_someone_else_marks_only_ones_own(api_as, admin, outsider, workspace, other_workspace):
    mine = Notification.objects.create(recipient=admin, workspace=workspace, kind="other", title="mine")
    theirs = Notification.objects.create(recipient=outsider, workspace=other_workspace, kind="other", title="t")
    response = api_as(admin).post("/api/v1/notifications/mark_read/", {"ids": [mine.id, theirs.id]}, format="json")
    assert response.status_code == 200 and response.json() == {"marked": 1}
    assert Notification.objects.get(pk=mine.pk).read_at is not None
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_a_workspace_token_neither_lists_nor_marks_notifications_of_another_workspace(api_as, bridge, workspace,
                                                                                    other_workspace):
    """A token is limited to its workspace: the owner's notifications from another workspace (story
    titles, KPI names) stay out of reach, by id too."""
    here = Notification.objects.create(recipient=bridge, workspace=workspace, kind="other", title="here")
    there = Notification.objects.create(recipient=bridge, workspace=other_workspace, kind="other", title="there")
    personal = Notification.objects.create(recipient=bridge, workspace=None, kind="invitation", title="personal")
    client = api_as(bridge, workspace)
    listed = {n["id"] for n in client.get("/api/v1/notifications/").json()["results"]}
    assert listed == {here.id, personal.id}
    response = client.post("/api/v1/notifications/mark_read/", {"ids": [here.id, there.id]}, format="json")
    assert response.json() == {"marked": 1}
    client.post("/api/v1/notifications/mark_read/", {}, format="json")  # "all": all of this workspace
    assert Notification.objects.get(pk=there.pk).read_at is None
    assert Notification.objects.get(pk=personal.pk).read_at is not None
