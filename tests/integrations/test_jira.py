"""Jira two-way sync against the stateful fake Jira (real HTTP on 127.0.0.1, every exchange checked
against Atlassian's published OpenAPI description). Celery is eager here; the worker-level scenarios
are in tests/integration/test_jira_worker.py."""

import pytest

from backlog import services as backlog
from backlog.models import Story
from integrations.jira import services, sync
from integrations.jira.adf import adf_to_md, md_to_adf
from integrations.jira.models import JiraConnection, JiraIssueMap, JiraOutbox, JiraSyncLog
from tests.integrations.fake_jira import POINTS_FIELD
from tests.roadmaps.factories import ProductFactory

from .jira_helpers import connect, deliver, story

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_connection_test_finds_the_user_and_projects_and_the_secrets_are_sealed(admin, workspace, fake_jira):
    connection, secret, link = connect(admin, workspace, fake_jira)
    connection.refresh_from_db()
    assert connection.health == "ok" and connection.account_name == "Pat PM"
    check = JiraSyncLog.objects.get(connection=connection, object_label="Connection test")
    assert check.result == "ok" and check.detail["projects"] == ["ENG"]
    assert fake_jira.token not in connection.token_sealed and secret not in connection.secret_sealed
    link.refresh_from_db()
    assert link.points_field == POINTS_FIELD
    assert link.status_in == {"10000": "idea", "3": "in_progress", "10001": "in_review", "10002": "done"}
    assert link.status_out["in_review"] == "10001" and link.status_out["ready"] == "10000"


def test_a_wrong_token_is_a_clear_answer(admin, workspace, fake_jira):
    connection, _ = services.connection_create(user=admin, workspace=workspace, kind="cloud", name="J",
                                               base_url=fake_jira.url, email=fake_jira.email, token="wrong")
    connection.refresh_from_db()
    assert connection.health == JiraConnection.Health.AUTH
    assert "token has expired or was revoked" in connection.last_error


def test_import_previews_then_creates_with_paging_and_a_rerun_creates_nothing(admin, workspace, fake_jira):
    for n in range(250):
        fake_jira.create_issue(summary=f"Issue {n}", status_id="3" if n % 2 else "10000", points=n % 8,
                               labels=["mobile"], description=md_to_adf(f"Line **{n}**"))
    fake_jira.create_issue(summary="An epic", issue_type="Epic")
    product = ProductFactory(workspace=workspace)
    existing = story(admin, product, title="Issue 7")  # before the link: not pushed on its own
    connection, _, link = connect(admin, workspace, fake_jira, product=product)
    services.import_preview_queue(user=admin, link=link)
    link.refresh_from_db()
    assert link.preview["state"] == "ready"
    assert link.preview["counts"] == {"create": 250, "link": 1, "skip": 0}  # 249 stories and the epic
    assert Story.objects.filter(product=link.product).count() == 1  # the preview wrote nothing
    services.import_run_queue(user=admin, link=link)
    assert Story.objects.filter(product=link.product).count() == 250
    assert JiraIssueMap.objects.filter(link=link).count() == 251
    assert JiraIssueMap.objects.get(link=link, epic__isnull=False).epic.title == "An epic"
    assert JiraIssueMap.objects.get(link=link, story=existing).remote_key == "ENG-8"
    s = Story.objects.get(product=link.product, title="Issue 3")
    assert (s.status, s.points, s.labels, s.description) == ("in_progress", 3, ["mobile"], "Line **3**")
    # The import's own writes are not sent back; the linked pair is merged once, field by field by rule.
    assert list(JiraOutbox.objects.values_list("story_id", "status")) == [(existing.id, "sent")]
    merged = JiraSyncLog.objects.get(story=existing, result="conflict")
    assert set(merged.detail["conflicts"]) == {"description", "labels", "points", "status"}  # titles agreed
    searches = [p for m, p in fake_jira.requests if p.endswith("/search/jql")]
    assert len(searches) >= 3 * 2  # 100 per page: preview and import each page through 251 issues
    services.import_preview_queue(user=admin, link=link)
    link.refresh_from_db()
    assert link.preview["counts"] == {"create": 0, "link": 0, "skip": 251}
    from backlog.models import Epic

    assert Epic.objects.filter(product=link.product).count() == 1
    services.import_run_queue(user=admin, link=link)
    assert Story.objects.filter(product=link.product).count() == 250


def test_a_pmhub_edit_goes_to_jira_and_its_webhook_echo_changes_nothing(admin, workspace, fake_jira, client):
    connection, _, link = connect(admin, workspace, fake_jira)
    s = story(admin, link.product, title="Offline mode", description="Works **offline**", points=5,
              labels=["needs design"])
    mapping = JiraIssueMap.objects.get(story=s)
    issue = fake_jira.find(mapping.remote_key)
    assert issue["fields"]["summary"] == "Offline mode" and issue["fields"][POINTS_FIELD] == 5
    assert issue["fields"]["labels"] == ["needs-design"]
    assert adf_to_md(issue["fields"]["description"]) == "Works **offline**"
    backlog.story_status_set(actor=admin, story=s, status="in_review")
    assert issue["fields"]["status"] == "10001"
    writes = len(fake_jira.writes)
    version = Story.objects.get(id=s.id).version
    assert deliver(client, fake_jira, connection, "jira:issue_updated", issue["id"]).status_code == 200
    assert len(fake_jira.writes) == writes and Story.objects.get(id=s.id).version == version


def test_a_jira_edit_comes_to_pmhub_and_is_not_sent_back(admin, workspace, fake_jira, client):
    connection, _, link = connect(admin, workspace, fake_jira)
    s = story(admin, link.product, title="Offline mode")
    issue = fake_jira.find(JiraIssueMap.objects.get(story=s).remote_key)
    fake_jira.edit_issue(issue["id"], summary="Offline mode v2", status="10002", labels=["ios"])
    writes = len(fake_jira.writes)
    assert deliver(client, fake_jira, connection, "jira:issue_updated", issue["id"]).status_code == 200
    s.refresh_from_db()
    assert (s.title, s.status, s.labels) == ("Offline mode v2", "done", ["ios"]) and s.done_at is not None
    assert len(fake_jira.writes) == writes  # nothing echoed back
    assert not JiraOutbox.objects.filter(status="pending").exists()


@pytest.mark.parametrize("rule,winner", [("pmhub", "Ours"), ("jira", "Theirs"), ("later", "Theirs")])
def test_a_conflict_is_decided_by_the_fields_rule_and_logged_with_both_values(admin, workspace, fake_jira,
                                                                              rule, winner):
    connection, _, link = connect(admin, workspace, fake_jira, field_rules={"title": {"direction": "both",
                                                                                      "rule": rule}})
    s = story(admin, link.product, title="Base")
    mapping = JiraIssueMap.objects.get(story=s)
    with sync.sync_writing():  # a PMHub edit whose outbox row has not been sent yet
        backlog.story_update(actor=admin, story=s, data={"title": "Ours"}, version=None)
    fake_jira.clock_offset = __import__("datetime").timedelta(seconds=5)
    fake_jira.edit_issue(mapping.remote_key, summary="Theirs")
    outcome = sync.sync_story(link=link, story_id=s.id, client=sync.JiraClient.for_connection(connection))
    s.refresh_from_db()
    assert s.title == winner and fake_jira.find(mapping.remote_key)["fields"]["summary"] == winner, outcome
    entry = JiraSyncLog.objects.filter(result="conflict").get()
    assert entry.detail["conflicts"]["title"] == {"pmhub": "Ours", "jira": "Theirs", "rule": rule,
                                                  "winner": "pmhub" if winner == "Ours" else "jira"}


def test_a_deleted_issue_unlinks_and_a_replayed_or_forged_webhook_changes_nothing(admin, workspace, fake_jira,
                                                                                 client):
    connection, _, link = connect(admin, workspace, fake_jira)
    s = story(admin, link.product, title="Gone soon")
    mapping = JiraIssueMap.objects.get(story=s)
    body, headers = fake_jira.webhook("jira:issue_deleted", mapping.remote_id,
                                      secret=__import__("pmhub.secretbox", fromlist=["x"]).unseal(
                                          connection.secret_sealed))
    del fake_jira.issues[mapping.remote_id]
    from .jira_helpers import post_webhook

    forged = dict(headers, **{"X-Hub-Signature": "sha256=" + "0" * 64})
    assert post_webhook(client, connection, body, forged).status_code == 401
    mapping.refresh_from_db()
    assert mapping.unlinked_at is None
    assert post_webhook(client, connection, body, headers).json()["detail"] == "queued"
    assert post_webhook(client, connection, body, headers).json()["detail"] == "already processed"
    mapping.refresh_from_db()
    assert mapping.unlinked_at is not None and Story.objects.filter(id=s.id).exists()


def test_an_expired_token_shows_in_the_log_and_on_the_connection_then_is_fixed(admin, workspace, fake_jira,
                                                                             eager_retries):
    connection, _, link = connect(admin, workspace, fake_jira)
    fake_jira.expire_token()
    s = story(admin, link.product, title="While expired")
    connection.refresh_from_db()
    assert connection.health == "auth" and "expired" in connection.last_error
    row = JiraOutbox.objects.get(story_id=s.id)
    assert row.status == "failed"
    assert JiraSyncLog.objects.filter(result="failed", error__contains="expired").exists()
    fake_jira.renew_token("fresh-token")
    services.connection_update(user=admin, connection=connection, data={"token": "fresh-token"})
    services.outbox_retry(user=admin, connection=connection)
    row.refresh_from_db()
    connection.refresh_from_db()
    assert row.status == "sent" and connection.health == "ok"
    assert JiraIssueMap.objects.filter(story=s).exists()


def test_connection_delete_removes_links_mapping_and_log_and_keeps_stories(admin, workspace, fake_jira):
    connection, _, link = connect(admin, workspace, fake_jira)
    s = story(admin, link.product, title="Stays")
    assert JiraIssueMap.objects.filter(story=s).exists()
    services.connection_delete(user=admin, connection=connection)
    assert not JiraConnection.objects.exists() and not JiraIssueMap.objects.exists()
    assert not JiraSyncLog.objects.exists() and Story.objects.filter(id=s.id).exists()
    assert len(fake_jira.issues) == 1  # nothing deleted in Jira either


def test_link_update_sets_rules_overrides_and_deletion_and_needs_the_version(admin, workspace, fake_jira):
    from pmhub.errors import Conflict

    connection, _, link = connect(admin, workspace, fake_jira)
    link.refresh_from_db()
    read = link.version
    updated = services.link_update(user=admin, link=link, version=read, data={
        "field_rules": {"description": {"direction": "to_pmhub", "rule": "jira"}},
        "status_in": {"10001": "in_progress"}, "status_out": {"wont_do": "10000"}, "on_delete": "delete"})
    assert updated.field_rules["description"] == {"direction": "to_pmhub", "rule": "jira"}
    assert updated.status_in["10001"] == "in_progress" and updated.status_in["3"] == "in_progress"
    assert updated.status_out["wont_do"] == "10000" and updated.on_delete == "delete"
    assert updated.version == read + 1
    with pytest.raises(Conflict):
        services.link_update(user=admin, link=updated, version=read, data={"jql": "x"})
    with pytest.raises(services.ValidationError):
        services.link_update(user=admin, link=updated, version=updated.version, data={"status_in": {"999": "done"}})


def test_link_delete_unlinks_and_both_sides_stay(admin, workspace, fake_jira):
    connection, _, link = connect(admin, workspace, fake_jira)
    s = story(admin, link.product, title="Stays too")
    services.link_delete(user=admin, link=link)
    assert not JiraIssueMap.objects.exists() and Story.objects.filter(id=s.id).exists() and fake_jira.issues
    backlog.story_update(actor=admin, story=Story.objects.get(id=s.id), data={"title": "Free"}, version=None)
    assert not JiraOutbox.objects.filter(status="pending").exists()


def test_push_existing_creates_one_issue_per_story_without_one(admin, workspace, fake_jira):
    product = ProductFactory(workspace=workspace)
    for n in range(3):
        story(admin, product, title=f"Older {n}", status="in_progress" if n else "idea")
    connection, _, link = connect(admin, workspace, fake_jira, product=product)
    assert services.push_existing(user=admin, link=link) == 3
    assert sorted(i["fields"]["summary"] for i in fake_jira.issues.values()) == ["Older 0", "Older 1", "Older 2"]
    assert sorted(i["fields"]["status"] for i in fake_jira.issues.values()) == ["10000", "3", "3"]
    assert services.push_existing(user=admin, link=link) == 0
    assert len(fake_jira.issues) == 3


def test_the_sweep_sends_due_outbox_rows_that_were_never_queued(admin, workspace, fake_jira):
    connection, _, link = connect(admin, workspace, fake_jira)
    with sync.sync_writing():  # a story whose outbox row the broker never got
        s = story(admin, link.product, title="Lost message")
    JiraOutbox.objects.create(link=link, story_id=s.id)
    assert services.outbox_sweep() == 1
    assert JiraOutbox.objects.get(story_id=s.id).status == "sent"
    assert fake_jira.find(JiraIssueMap.objects.get(story=s).remote_key)["fields"]["summary"] == "Lost message"


def test_reconcile_all_takes_what_jira_changed_without_a_webhook(admin, workspace, fake_jira):
    connection, _, link = connect(admin, workspace, fake_jira)
    s = story(admin, link.product, title="Quiet")
    fake_jira.edit_issue(JiraIssueMap.objects.get(story=s).remote_key, summary="Changed quietly")
    created = fake_jira.create_issue(summary="New in Jira")
    assert services.reconcile_all() == 1
    assert Story.objects.get(id=s.id).title == "Changed quietly"
    assert JiraIssueMap.objects.get(remote_id=created["id"]).story.title == "New in Jira"
    link.refresh_from_db()
    assert link.reconciled_at is not None


def test_a_story_deleted_in_pmhub_is_deleted_in_jira_only_when_chosen(admin, workspace, fake_jira):
    connection, _, link = connect(admin, workspace, fake_jira, on_delete="delete")
    gone = story(admin, link.product, title="Delete me")
    key = JiraIssueMap.objects.get(story=gone).remote_key
    backlog.story_delete(actor=admin, story=gone)  # one statement, no signal: the minute's sweep sees it
    assert fake_jira.find(key) is not None
    services.outbox_sweep()
    assert fake_jira.find(key) is None and JiraIssueMap.objects.get(remote_key=key).unlinked_at is not None
    assert JiraSyncLog.objects.filter(detail__has_key="note", result="ok", remote_key=key).exists()
    services.link_update(user=admin, link=type(link).objects.get(id=link.id), data={"on_delete": "unlink"},
                         version=None)
    kept = story(admin, link.product, title="Delete me, keep the issue")
    kept_key = JiraIssueMap.objects.get(story=kept).remote_key
    backlog.story_delete(actor=admin, story=kept)
    services.outbox_sweep()
    assert fake_jira.find(kept_key) is not None
    assert "unlinked, the issue stays in Jira" in JiraSyncLog.objects.get(remote_key=kept_key, detail__has_key="note"
                                                                          ).detail["note"]


def test_epics_are_synced_and_a_storys_epic_is_its_issues_parent(admin, workspace, fake_jira, client):
    from backlog.models import Epic

    epic_issue = fake_jira.create_issue(summary="Offline", issue_type="Epic", status_id="3")
    fake_jira.create_issue(summary="Cache tiles", parent=epic_issue["id"])
    connection, _, link = connect(admin, workspace, fake_jira)
    services.import_preview_queue(user=admin, link=link)
    services.import_run_queue(user=admin, link=type(link).objects.get(id=link.id))
    epic = Epic.objects.get(product=link.product)
    assert (epic.title, epic.status) == ("Offline", "in_progress")
    assert Story.objects.get(product=link.product).epic_id == epic.id
    # PMHub: a new epic and a story in it go to Jira as an epic and its child.
    new_epic = backlog.epic_create(actor=admin, product=link.product, title="Sharing")
    epic_key = JiraIssueMap.objects.get(epic=new_epic).remote_key
    assert fake_jira.find(epic_key)["fields"]["issuetype"] == "Epic"
    child = story(admin, link.product, title="Share a link", epic_id=new_epic.id)
    issue = fake_jira.find(JiraIssueMap.objects.get(story=child).remote_key)
    assert issue["fields"]["parent"] == fake_jira.find(epic_key)["id"]
    # Jira: the story moves to the other epic, and the epic is renamed.
    fake_jira.edit_issue(issue["id"], parent=epic_issue["id"])
    deliver(client, fake_jira, connection, "jira:issue_updated", issue["id"])
    assert Story.objects.get(id=child.id).epic_id == epic.id
    fake_jira.edit_issue(epic_key, summary="Sharing and links")
    deliver(client, fake_jira, connection, "jira:issue_updated", fake_jira.find(epic_key)["id"])
    assert Epic.objects.get(id=new_epic.id).title == "Sharing and links"
    # PMHub: renaming the epic goes to Jira, its webhook echo changes nothing.
    writes = len(fake_jira.writes)
    backlog.epic_update(actor=admin, epic=Epic.objects.get(id=new_epic.id), data={"title": "Sharing v2"}, version=None)
    assert fake_jira.find(epic_key)["fields"]["summary"] == "Sharing v2" and len(fake_jira.writes) == writes + 1
    deliver(client, fake_jira, connection, "jira:issue_updated", fake_jira.find(epic_key)["id"])
    assert len(fake_jira.writes) == writes + 1


def test_a_connection_that_keeps_failing_tells_the_admins_once_and_heals(admin, workspace, fake_jira, eager_retries):
    from pmhub.models import Notification

    connection, _, link = connect(admin, workspace, fake_jira)
    fake_jira.fail_next(6, 503)  # eager retries run at once: six failures in a row, then Jira answers
    s = story(admin, link.product, title="Through the storm")
    assert JiraIssueMap.objects.filter(story=s).exists()
    told = Notification.objects.filter(recipient=admin, title__contains="is failing")
    assert told.count() == 1 and "Jira had an error (503)" in told.get().title
    assert JiraSyncLog.objects.filter(result="retrying").count() == 6
    connection.refresh_from_db()
    assert connection.health == "ok" and connection.failures_in_row == 0 and connection.notified_at is None


def test_a_field_jira_refuses_is_a_failed_line_with_jiras_reason_on_the_page(admin, workspace, fake_jira,
                                                                           client_as, eager_retries):
    connection, _, link = connect(admin, workspace, fake_jira)
    s = story(admin, link.product, title="Estimate me")
    type(link).objects.filter(id=link.id).update(points_field="customfield_99999")  # not on Jira's screen
    backlog.story_update(actor=admin, story=Story.objects.get(id=s.id), data={"points": 8}, version=None)
    entry = JiraSyncLog.objects.get(result="failed")
    assert "Field 'story points' cannot be set" in entry.error and entry.story_id == s.id
    assert JiraOutbox.objects.filter(story_id=s.id, status="failed").exists()
    page = client_as(admin).get(f"/w/{workspace.slug}/jira/{connection.id}/").content.decode()
    assert "cannot be set" in page and 'value="retry"' in page


def test_people_are_matched_by_email_and_an_unmatched_one_is_reported_not_guessed(admin, editor, workspace,
                                                                                  fake_jira, client):
    connection, _, link = connect(admin, workspace, fake_jira)
    fake_jira.add_user(editor.email, "Ed Editor")
    stranger = fake_jira.add_user("contractor@elsewhere.example", "Con Tractor")
    s = story(admin, link.product, title="Assign me", assignee_id=editor.id)
    issue = fake_jira.find(JiraIssueMap.objects.get(story=s).remote_key)
    assert fake_jira._user(issue["fields"]["assignee"])["emailAddress"] == editor.email
    fake_jira.edit_issue(issue["id"], assignee=stranger["accountId"], summary="Assign me, later")
    deliver(client, fake_jira, connection, "jira:issue_updated", issue["id"])
    s.refresh_from_db()
    assert s.title == "Assign me, later" and s.assignee_id == editor.id  # kept, not guessed
    entry = JiraSyncLog.objects.filter(error__contains="not guessed").get()
    assert "contractor@elsewhere.example" in entry.error
    backlog.story_update(actor=admin, story=s, data={"assignee_id": admin.id}, version=None)  # no Jira account
    assert JiraSyncLog.objects.filter(error__contains=f"{admin.email} has no Jira account").exists()


def test_set_once_and_one_way_fields_are_left_alone_afterwards(admin, workspace, fake_jira, client):
    rules = {"title": {"direction": "once", "rule": "later"}, "labels": {"direction": "to_jira", "rule": "later"},
             "points": {"direction": "to_pmhub", "rule": "later"}}
    connection, _, link = connect(admin, workspace, fake_jira, field_rules=rules)
    s = story(admin, link.product, title="First title", labels=["a"], points=2)
    issue = fake_jira.find(JiraIssueMap.objects.get(story=s).remote_key)
    assert (issue["fields"]["summary"], issue["fields"]["labels"]) == ("First title", ["a"])
    backlog.story_update(actor=admin, story=Story.objects.get(id=s.id), version=None,
                         data={"title": "Renamed in PMHub", "points": 3})
    # Set once: not sent again; Jira to PMHub: never sent (not even when the issue was created).
    assert issue["fields"]["summary"] == "First title" and issue["fields"][POINTS_FIELD] is None
    fake_jira.edit_issue(issue["id"], labels=["b"], **{POINTS_FIELD: 5})
    deliver(client, fake_jira, connection, "jira:issue_updated", issue["id"])
    s.refresh_from_db()
    assert (s.title, s.labels, s.points) == ("Renamed in PMHub", ["a"], 5)
