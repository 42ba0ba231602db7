"""Fix version <-> release (docs/decisions/1717) against the stateful fake Jira (real HTTP on
127.0.0.1, every exchange checked against Atlassian's published OpenAPI description): an epic's
release and its issue's fixVersions both ways, matched by name and created on the other side by
the field's direction; a story's fix version follows its epic's release; conflicts by rule."""

import pytest

from backlog import services as backlog
from backlog.models import Epic
from integrations.jira import services, sync
from integrations.jira.models import JiraIssueMap, JiraSyncLog
from roadmaps.models import Release

from .jira_helpers import connect, deliver, story

pytestmark = pytest.mark.django_db(transaction=True)


def _epic_with_release(admin, link, release_name="1.0"):
    release = Release.objects.create(product=link.product, name=release_name)
    epic = backlog.epic_create(actor=admin, product=link.product, title="Offline", release_id=release.id)
    return epic, release, JiraIssueMap.objects.get(epic=epic).remote_key


def test_a_release_goes_to_jira_as_a_fix_version_created_by_name_and_its_stories_follow(admin, workspace, fake_jira):
    fake_jira.add_version("0.9")
    connection, _, link = connect(admin, workspace, fake_jira)
    epic, release, epic_key = _epic_with_release(admin, link)
    created = fake_jira.version_named("1.0")
    assert created is not None and ("POST", "/rest/api/3/version") in fake_jira.requests
    assert fake_jira.find(epic_key)["fields"]["fixVersions"] == [created["id"]]
    child = story(admin, link.product, title="Cache tiles", epic_id=epic.id)
    assert fake_jira.find(JiraIssueMap.objects.get(story=child).remote_key)["fields"]["fixVersions"] == [created["id"]]
    # The epic moves to an existing Jira version (matched by name: none created) and the story follows.
    later = Release.objects.create(product=link.product, name="0.9")
    versions = len(fake_jira.versions)
    backlog.epic_update(actor=admin, epic=Epic.objects.get(id=epic.id), data={"release_id": later.id}, version=None)
    assert len(fake_jira.versions) == versions
    assert fake_jira.find(epic_key)["fields"]["fixVersions"] == [fake_jira.version_named("0.9")["id"]]
    assert fake_jira.find(JiraIssueMap.objects.get(story=child).remote_key)["fields"]["fixVersions"] == [
        fake_jira.version_named("0.9")["id"]
    ]
    # Out of the release: the fix versions are cleared.
    backlog.epic_update(actor=admin, epic=Epic.objects.get(id=epic.id), data={"release_id": None}, version=None)
    assert fake_jira.find(epic_key)["fields"]["fixVersions"] == []
    assert len([e for e in JiraSyncLog.objects.filter(result="ok") if "release" in e.fields]) >= 3


def test_a_jira_fix_version_comes_to_pmhub_as_the_release_of_that_name_created_when_missing(
    admin, workspace, fake_jira, client
):
    connection, _, link = connect(admin, workspace, fake_jira)
    epic, release, epic_key = _epic_with_release(admin, link)
    v2 = fake_jira.add_version("2.0")
    fake_jira.edit_issue(epic_key, fixVersions=[v2["id"]])
    writes = len(fake_jira.writes)
    deliver(
        client, fake_jira, connection, "jira:issue_updated", fake_jira.find(epic_key)["id"], changed=("Fix Version",)
    )
    epic.refresh_from_db()
    assert epic.release.name == "2.0" and Release.objects.filter(product=link.product).count() == 2
    assert len(fake_jira.writes) == writes  # no echo
    # Matched by name (case aside): an existing release is reused, not duplicated.
    Release.objects.create(product=link.product, name="Beta")
    beta = fake_jira.add_version("beta")
    fake_jira.edit_issue(epic_key, fixVersions=[beta["id"]])
    deliver(client, fake_jira, connection, "jira:issue_updated", fake_jira.find(epic_key)["id"])
    epic.refresh_from_db()
    assert epic.release.name == "Beta" and Release.objects.filter(product=link.product).count() == 3
    # A story's fix version is its epic's: an edit of the story's alone is reported, not taken.
    child = story(admin, link.product, title="Cache tiles", epic_id=epic.id)
    key = JiraIssueMap.objects.get(story=child).remote_key
    fake_jira.edit_issue(key, fixVersions=[v2["id"]])
    deliver(client, fake_jira, connection, "jira:issue_updated", fake_jira.find(key)["id"])
    epic.refresh_from_db()
    assert epic.release.name == "Beta"
    assert "set the fix version on the epic" in JiraSyncLog.objects.filter(remote_key=key).first().error


def test_one_way_to_jira_leaves_jiras_versions_alone_and_imports_take_the_epics_fix_version(
    admin, workspace, fake_jira, client
):
    v3 = fake_jira.add_version("3.0")
    epic_issue = fake_jira.create_issue(summary="Sync", issue_type="Epic", fix_versions=["3.0"])
    fake_jira.create_issue(summary="Story of it", parent=epic_issue["id"], fix_versions=["3.0"])
    connection, _, link = connect(admin, workspace, fake_jira)
    services.import_preview_queue(user=admin, link=link)
    services.import_run_queue(user=admin, link=type(link).objects.get(id=link.id))
    epic = Epic.objects.get(product=link.product)
    assert epic.release.name == "3.0" and Release.objects.filter(product=link.product).count() == 1
    link.field_rules = {"release": {"direction": "to_jira", "rule": "later"}}
    link.save(update_fields=["field_rules"])
    fake_jira.edit_issue(epic_issue["id"], fixVersions=[])
    deliver(client, fake_jira, connection, "jira:issue_updated", epic_issue["id"])
    epic.refresh_from_db()
    assert epic.release.name == "3.0" and v3 in fake_jira.versions


@pytest.mark.parametrize("rule,winner", [("pmhub", "1.1"), ("jira", "2.0")])
def test_a_release_conflict_is_decided_by_rule_and_logged_with_both_values(admin, workspace, fake_jira, rule, winner):
    connection, _, link = connect(
        admin, workspace, fake_jira, field_rules={"release": {"direction": "both", "rule": rule}}
    )
    epic, release, epic_key = _epic_with_release(admin, link)
    ours = Release.objects.create(product=link.product, name="1.1")
    with sync.sync_writing():  # a PMHub edit not sent yet
        backlog.epic_update(actor=admin, epic=epic, data={"release_id": ours.id}, version=None)
    fake_jira.edit_issue(epic_key, fixVersions=[fake_jira.add_version("2.0")["id"]])
    sync.sync_story(link=link, story_id=epic.id, client=sync.JiraClient.for_connection(connection), kind="epic")
    epic.refresh_from_db()
    remote = [v["name"] for v in fake_jira.versions if v["id"] in fake_jira.find(epic_key)["fields"]["fixVersions"]]
    assert epic.release.name == winner and remote == [winner]
    entry = JiraSyncLog.objects.get(result="conflict")
    assert entry.detail["conflicts"]["release"] == {
        "pmhub": "1.1",
        "jira": "2.0",
        "rule": rule,
        "winner": "pmhub" if rule == "pmhub" else "jira",
    }
