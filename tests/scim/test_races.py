"""Identical SCIM requests at the same moment (identity providers retry, and Okta and Entra ID send
in parallel): each is answered as if it came alone, never with a 500, and no duplicate is made.
Three threads, each on its own PostgreSQL connection, released by a barrier."""

import threading

import pytest
from django.db import connections

from pmhub.models import Membership, User
from scim.models import ScimGroup, ScimUser
from tests.services import on_postgres, require

from .conftest import ScimClient, group_body, make_scim_token, patch_body, user_body

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
RACERS = 3


def _together(raw, calls):
    barrier = threading.Barrier(len(calls))
    answers = [None] * len(calls)

    def racer(i, method, path, body):
        try:
            client = ScimClient(raw)
            barrier.wait(timeout=10)
            response = client.call(method, path, body)
            answers[i] = (response.status_code, response.body)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=racer, args=(i, *call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return answers


@pytest.fixture
def raw(workspace):
    require(on_postgres(), "PostgreSQL")
    return make_scim_token(workspace)[1]


def test_identical_user_creates_make_one_user_and_answer_409_like_a_single_duplicate(raw, workspace):
    body = user_body("racer@acme.test", externalId="race-1")
    answers = _together(raw, [("post", "Users", body)] * RACERS)
    statuses = sorted(s for s, _ in answers)
    assert statuses == [201, 409, 409], answers
    again = ScimClient(raw).post("Users", body)
    assert again.status_code == 409
    for status, answer in answers:
        if status == 409:
            assert answer["scimType"] == again.body["scimType"] == "uniqueness"
    assert ScimUser.objects.filter(workspace=workspace).count() == 1
    assert User.objects.filter(email="racer@acme.test").count() == 1
    assert Membership.objects.filter(workspace=workspace, user__email="racer@acme.test").count() == 1


def test_identical_group_creates_make_one_group(raw, workspace):
    answers = _together(raw, [("post", "Groups", group_body("Racers"))] * RACERS)
    assert sorted(s for s, _ in answers) == [201, 409, 409], answers
    assert ScimGroup.objects.filter(workspace=workspace).count() == 1


def test_member_additions_at_the_same_moment_are_all_kept(raw, workspace):
    client = ScimClient(raw)
    ids = [client.post("Users", user_body(f"m{i}@acme.test")).body["id"] for i in range(RACERS)]
    group = client.post("Groups", group_body("Team")).body["id"]
    calls = [("patch", f"Groups/{group}", patch_body({"op": "add", "path": "members", "value": [{"value": uid}]}))
             for uid in ids]
    answers = _together(raw, calls)
    assert [s for s, _ in answers] == [200] * RACERS, answers
    members = {m["value"] for m in client.get(f"Groups/{group}").body["members"]}
    assert members == set(ids)


def test_two_workspaces_provisioning_the_same_new_person_at_once_share_one_account(raw, workspace, other_workspace):
    other_raw = make_scim_token(other_workspace)[1]
    barrier = threading.Barrier(2)
    answers = []

    def racer(token):
        try:
            client = ScimClient(token)
            barrier.wait(timeout=10)
            answers.append(client.post("Users", user_body("shared@acme.test")).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=racer, args=(t,)) for t in (raw, other_raw)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert answers == [201, 201]
    user = User.objects.get(email="shared@acme.test")
    assert set(ScimUser.objects.filter(user=user).values_list("workspace_id", flat=True)) == {
        workspace.id, other_workspace.id}
    assert Membership.objects.filter(user=user).count() == 2


def test_a_group_change_and_the_members_deletion_at_once_never_deadlock(raw, workspace):
    client = ScimClient(raw)
    for round_ in range(3):
        uid = client.post("Users", user_body(f"d{round_}@acme.test")).body["id"]
        group = client.post("Groups", group_body(f"G{round_}", [uid])).body["id"]
        ScimGroup.objects.filter(uid=group).update(role=20)
        answers = _together(raw, [
            ("patch", f"Groups/{group}", patch_body({"op": "remove", "path": f'members[value eq "{uid}"]'})),
            ("delete", f"Users/{uid}", None)])
        assert all(status < 500 for status, _ in answers), answers
        assert not ScimUser.objects.filter(uid=uid).exists()
        assert not Membership.objects.filter(workspace=workspace, user__email=f"d{round_}@acme.test").exists()
