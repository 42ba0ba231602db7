"""The successful effect of the core's writes (workspaces, invitations, members, tokens, jobs,
users): rows, roles, activity, revoked tokens (tests/core/test_service_success.py keeps the list)."""

import pytest
from django.core import mail

from pmhub import services
from pmhub.access import role_in
from pmhub.models import ApiToken, BackgroundJob, Invitation, Membership, Role, User, Workspace
from tests.effects import verbs
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_workspace_create_makes_the_creator_admin(admin):
    workspace = services.workspace_create(user=admin, name="Initech", time_zone="Europe/Paris")
    assert Membership.objects.get(workspace=workspace, user=admin).role == Role.ADMIN
    assert (workspace.slug, workspace.time_zone) == ("initech", "Europe/Paris")
    assert verbs(workspace) == ["created workspace"]


def test_workspace_update_renames_and_changes_the_time_zone(admin, workspace):
    services.workspace_update(user=admin, workspace=workspace, name="Acme Corp", time_zone="Asia/Tokyo")
    workspace = Workspace.objects.get(id=workspace.id)
    assert (workspace.name, workspace.time_zone) == ("Acme Corp", "Asia/Tokyo")
    assert verbs(workspace)[-1] == "updated workspace"


def test_invitation_create_mails_the_key_and_accept_makes_a_member(admin, workspace):
    invitation, raw = services.invitation_create(user=admin, workspace=workspace, email="Bob@Acme.test",
                                                 role=Role.EDITOR)
    bob = UserFactory(email="bob@acme.test")
    membership = services.invitation_accept(user=bob, raw_key=raw)
    assert (membership.workspace_id, membership.role) == (workspace.id, Role.EDITOR)
    assert Invitation.objects.get(id=invitation.id).accepted_by == bob
    assert verbs(workspace)[-2:] == ["invited", "joined workspace"]


def test_invitation_create_sends_the_email_on_commit(admin, workspace, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_create(user=admin, workspace=workspace, email="carol@acme.test", role=Role.VIEWER)
    assert [m.to for m in mail.outbox] == [["carol@acme.test"]]


def test_invitation_revoke_closes_the_invitation(admin, workspace):
    invitation, raw = services.invitation_create(user=admin, workspace=workspace, email="dan@acme.test",
                                                 role=Role.VIEWER)
    services.invitation_revoke(user=admin, invitation=invitation)
    assert Invitation.objects.get(id=invitation.id).revoked_at is not None
    assert services.invitation_by_key(raw).is_open is False


def test_membership_set_role_changes_what_the_member_may_do(admin, editor, workspace):
    membership = Membership.objects.get(user=editor, workspace=workspace)
    services.membership_set_role(user=admin, membership=membership, role=Role.VIEWER)
    assert Membership.objects.get(id=membership.id).role == Role.VIEWER
    assert role_in(editor, workspace.id) == Role.VIEWER
    assert verbs(workspace)[-1] == "changed role"


def test_membership_remove_deletes_it_and_revokes_the_members_tokens(api, admin, editor, workspace):
    token, raw = services.api_token_create(user=editor, workspace=workspace, name="CI", scope="write")
    api.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    assert api.get("/api/v1/workspaces/").status_code == 200
    services.membership_remove(user=admin, membership=Membership.objects.get(user=editor, workspace=workspace))
    assert not Membership.objects.filter(user=editor, workspace=workspace).exists()
    assert ApiToken.objects.get(id=token.id).revoked_at is not None
    assert api.get("/api/v1/workspaces/").status_code == 401
    assert verbs(workspace)[-1] == "removed member"


def test_api_token_create_stores_only_a_hash_and_revoke_stops_it(api, editor, workspace):
    token, raw = services.api_token_create(user=editor, workspace=workspace, name="Zapier", scope="read")
    stored = ApiToken.objects.get(id=token.id)
    assert raw not in (stored.key_hash, stored.prefix) and stored.prefix == raw[:12]
    assert verbs(workspace)[-1] == "created API token"
    services.api_token_revoke(user=editor, token=stored)
    api.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    assert ApiToken.objects.get(id=token.id).revoked_at is not None
    assert api.get("/api/v1/workspaces/").status_code == 401


def test_a_job_reports_progress_then_finishes(admin, workspace):
    job = services.job_create(workspace_id=workspace.id, kind="import", user=admin, total=10)
    services.job_progress(job_id=job.id, progress=4, message="4 of 10")
    job.refresh_from_db()
    assert (job.status, job.progress, job.message) == (BackgroundJob.Status.RUNNING, 4, "4 of 10")
    services.job_finish(job_id=job.id, result={"created": 10})
    job.refresh_from_db()
    assert (job.status, job.progress, job.result) == (BackgroundJob.Status.DONE, 10, {"created": 10})
    assert job.finished_at is not None


def test_user_create_stores_a_lower_case_email_and_a_hashed_password(db):
    user = services.user_create(email=" Eve@Example.TEST ", password="a long enough passphrase 42", name="Eve")
    stored = User.objects.get(id=user.id)
    assert stored.email == "eve@example.test"
    assert stored.check_password("a long enough passphrase 42")
