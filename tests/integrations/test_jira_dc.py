"""Jira Data Center (docs/decisions/1718) against the stateful fake in its Data Center mode: REST v2
with a personal access token, descriptions in wiki markup, people by username, `search` paged with
startAt, webhooks without a delivery identifier; every exchange checked against the Data Center
description in tests/integrations/data/. Celery is eager here; the worker-level scenarios are in
tests/integration/test_jira_worker.py."""

import pytest

from backlog import services as backlog
from backlog.models import Story
from integrations.jira import services, sync
from integrations.jira.models import JiraConnection, JiraDelivery, JiraIssueMap, JiraSyncLog

from .fake_jira import EPIC_LINK_FIELD
from .jira_helpers import connect, deliver, post_webhook, story

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_data_center_connection_uses_its_personal_access_token_and_v2(admin, workspace, fake_jira_dc):
    connection, _, link = connect(admin, workspace, fake_jira_dc)
    connection.refresh_from_db()
    assert connection.kind == "dc" and connection.health == "ok" and connection.email == ""
    assert connection.account_name == "Pat PM"
    assert ("GET", "/rest/api/2/myself") in fake_jira_dc.requests and (
        "GET",
        "/rest/api/2/project",
    ) in fake_jira_dc.requests
    assert not [p for _, p in fake_jira_dc.requests if p.startswith("/rest/api/3/")]
    link.refresh_from_db()
    assert link.status_out and link.points_field


def test_a_wrong_personal_access_token_is_a_clear_answer(admin, workspace, fake_jira_dc):
    connection, _ = services.connection_create(
        user=admin, workspace=workspace, kind="dc", name="J", base_url=fake_jira_dc.url, token="wrong"
    )
    connection.refresh_from_db()
    assert connection.health == JiraConnection.Health.AUTH


def test_edits_go_both_ways_in_wiki_markup_and_people_by_username(admin, editor, workspace, fake_jira_dc, client):
    fake_jira_dc.add_user(editor.email, "Eddie Editor")
    connection, _, link = connect(admin, workspace, fake_jira_dc)
    s = story(
        admin,
        link.product,
        title="Offline mode",
        description="Works **offline**, see `docs`.\n\n- one\n- two",
        assignee_id=editor.id,
    )
    issue = fake_jira_dc.find(JiraIssueMap.objects.get(story=s).remote_key)
    assert issue["fields"]["description"] == "Works *offline*, see {{docs}}.\n\n* one\n* two"
    username = editor.email.split("@")[0]
    assert next(u for u in fake_jira_dc.users if u["accountId"] == issue["fields"]["assignee"])["name"] == username
    assert ("GET", "/rest/api/2/user/search") in fake_jira_dc.requests
    # Jira: the description edited in wiki markup comes back as Markdown, nothing is echoed.
    fake_jira_dc.edit_issue(
        issue["id"], description="h2. Plan\n\nUse _tiles_ and [the spec|https://example.com/s].", summary="Offline maps"
    )
    writes = len(fake_jira_dc.writes)
    assert deliver(client, fake_jira_dc, connection, "jira:issue_updated", issue["id"]).status_code == 200
    s.refresh_from_db()
    assert s.title == "Offline maps"
    assert s.description == "## Plan\n\nUse *tiles* and [the spec](https://example.com/s)."
    assert len(fake_jira_dc.writes) == writes
    # PMHub again: the description PMHub sends back round-trips without a false change.
    backlog.story_update(actor=admin, story=s, data={"title": "Offline maps v2"}, version=None)
    assert fake_jira_dc.find(issue["id"])["fields"]["summary"] == "Offline maps v2"
    assert fake_jira_dc.writes[-1][2] == {"fields": {"summary": "Offline maps v2"}}


def test_import_pages_with_start_at_and_a_rerun_creates_nothing(admin, workspace, fake_jira_dc):
    for n in range(230):
        fake_jira_dc.create_issue(summary=f"Issue {n}", description=f"Line *{n}*", labels=["dc"])
    connection, _, link = connect(admin, workspace, fake_jira_dc)
    services.import_preview_queue(user=admin, link=link)
    link.refresh_from_db()
    assert link.preview["counts"] == {"create": 230, "link": 0, "skip": 0}
    services.import_run_queue(user=admin, link=link)
    assert Story.objects.filter(product=link.product).count() == 230
    assert Story.objects.get(product=link.product, title="Issue 7").description == "Line **7**"
    searches = [p for m, p in fake_jira_dc.requests if p == "/rest/api/2/search"]
    assert len(searches) >= 2 * 3  # 100 a page, startAt 0, 100, 200: preview and import
    services.import_preview_queue(user=admin, link=link)
    link.refresh_from_db()
    assert link.preview["counts"] == {"create": 0, "link": 0, "skip": 230}


def test_a_data_center_webhook_is_remembered_by_its_body_and_a_replay_changes_nothing(
    admin, workspace, fake_jira_dc, client
):
    connection, _, link = connect(admin, workspace, fake_jira_dc)
    s = story(admin, link.product, title="Base")
    issue = fake_jira_dc.find(JiraIssueMap.objects.get(story=s).remote_key)
    fake_jira_dc.edit_issue(issue["id"], summary="From Data Center")
    from pmhub.secretbox import unseal

    body, headers = fake_jira_dc.webhook("jira:issue_updated", issue["id"], secret=unseal(connection.secret_sealed))
    assert "X-Atlassian-Webhook-Identifier" not in headers
    assert post_webhook(client, connection, body, headers).json()["detail"] == "queued"
    assert post_webhook(client, connection, body, headers).json()["detail"] == "already processed"
    assert JiraDelivery.objects.filter(connection=connection).count() == 1
    s.refresh_from_db()
    assert s.title == "From Data Center"
    forged = {**headers, "X-Hub-Signature": "sha256=" + "0" * 64}
    assert post_webhook(client, connection, body.replace(b"From", b"Frum"), forged).status_code == 401


@pytest.mark.parametrize("rule,winner", [("pmhub", "Ours"), ("jira", "Theirs")])
def test_a_conflict_on_data_center_is_decided_by_rule_and_logged(admin, workspace, fake_jira_dc, rule, winner):
    connection, _, link = connect(
        admin, workspace, fake_jira_dc, field_rules={"description": {"direction": "both", "rule": rule}}
    )
    s = story(admin, link.product, title="Base", description="Base text")
    key = JiraIssueMap.objects.get(story=s).remote_key
    with sync.sync_writing():
        backlog.story_update(actor=admin, story=s, data={"description": "Ours"}, version=None)
    fake_jira_dc.edit_issue(key, description="Theirs")
    sync.sync_story(link=link, story_id=s.id, client=sync.JiraClient.for_connection(connection))
    s.refresh_from_db()
    assert s.description == winner and fake_jira_dc.find(key)["fields"]["description"] == winner
    entry = JiraSyncLog.objects.get(result="conflict")
    assert entry.detail["conflicts"]["description"]["jira"] == "Theirs"


def test_a_storys_epic_is_the_epic_link_field_with_the_epics_key_both_ways(admin, workspace, fake_jira_dc, client):
    connection, _, link = connect(admin, workspace, fake_jira_dc)
    offline = backlog.epic_create(actor=admin, product=link.product, title="Offline")
    sharing = backlog.epic_create(actor=admin, product=link.product, title="Sharing")
    offline_key, sharing_key = (JiraIssueMap.objects.get(epic=e).remote_key for e in (offline, sharing))
    assert fake_jira_dc.find(offline_key)["fields"]["issuetype"] == "Epic"
    fields_asked = fake_jira_dc.requests.count(("GET", "/rest/api/2/field"))
    # PMHub: a story in an epic is created in Data Center with the Epic Link set to the epic's key.
    s = story(admin, link.product, title="Cache tiles", epic_id=offline.id)
    key = JiraIssueMap.objects.get(story=s).remote_key
    issue = fake_jira_dc.find(key)
    assert issue["fields"]["parent"] == fake_jira_dc.find(offline_key)["id"]
    created = next(
        b
        for m, p, b in fake_jira_dc.writes
        if m == "POST" and p == "/rest/api/2/issue" and b["fields"]["summary"] == "Cache tiles"
    )
    assert created["fields"][EPIC_LINK_FIELD] == offline_key and "parent" not in created["fields"]
    assert fake_jira_dc.issue_json(issue)["fields"][EPIC_LINK_FIELD] == offline_key
    # PMHub: moving it to the other epic changes the Epic Link; taking it out clears it.
    backlog.story_update(actor=admin, story=s, data={"epic_id": sharing.id}, version=None)
    assert fake_jira_dc.writes[-1][2] == {"fields": {EPIC_LINK_FIELD: sharing_key}}
    assert fake_jira_dc.find(key)["fields"]["parent"] == fake_jira_dc.find(sharing_key)["id"]
    # Data Center: the Epic Link changed back (a webhook) moves the story in PMHub, with no echo.
    fake_jira_dc.edit_issue(key, parent=fake_jira_dc.find(offline_key)["id"])
    writes = len(fake_jira_dc.writes)
    assert (
        deliver(client, fake_jira_dc, connection, "jira:issue_updated", issue["id"], changed=("Epic Link",)).status_code
        == 200
    )
    assert Story.objects.get(id=s.id).epic_id == offline.id
    assert len(fake_jira_dc.writes) == writes
    assert deliver(client, fake_jira_dc, connection, "jira:issue_updated", issue["id"]).status_code == 200
    assert len(fake_jira_dc.writes) == writes and Story.objects.get(id=s.id).epic_id == offline.id
    # Data Center: the Epic Link cleared takes the story out of its epic.
    fake_jira_dc.edit_issue(key, parent=None)
    deliver(client, fake_jira_dc, connection, "jira:issue_updated", issue["id"])
    assert Story.objects.get(id=s.id).epic_id is None and len(fake_jira_dc.writes) == writes
    backlog.story_update(actor=admin, story=Story.objects.get(id=s.id), data={"epic_id": sharing.id}, version=None)
    assert fake_jira_dc.find(key)["fields"]["parent"] == fake_jira_dc.find(sharing_key)["id"]
    backlog.story_update(actor=admin, story=Story.objects.get(id=s.id), data={"epic_id": None}, version=None)
    assert fake_jira_dc.writes[-1][2] == {"fields": {EPIC_LINK_FIELD: None}}
    assert fake_jira_dc.find(key)["fields"]["parent"] is None
    # The field was found once for this connection's client, by its schema.
    assert fake_jira_dc.requests.count(("GET", "/rest/api/2/field")) == fields_asked
    assert not [b for _, _, b in fake_jira_dc.writes if b and "parent" in (b.get("fields") or {})]
    assert not JiraSyncLog.objects.filter(result="failed").exists()


def test_an_import_from_data_center_puts_stories_in_their_epics(admin, workspace, fake_jira_dc):
    offline = fake_jira_dc.create_issue(summary="Offline", issue_type="Epic")
    sharing = fake_jira_dc.create_issue(summary="Sharing", issue_type="Epic")
    fake_jira_dc.create_issue(summary="Cache tiles", parent=offline["id"])
    fake_jira_dc.create_issue(summary="Share a link", parent=sharing["id"])
    fake_jira_dc.create_issue(summary="Loose end")
    connection, _, link = connect(admin, workspace, fake_jira_dc)
    asked = len(fake_jira_dc.requests)
    services.import_preview_queue(user=admin, link=link)
    link.refresh_from_db()
    services.import_run_queue(user=admin, link=link)
    # The epics are read first: each story's Epic Link is resolved without a GET of its epic.
    assert not [p for _, p in fake_jira_dc.requests[asked:] if p.startswith("/rest/api/2/issue")]
    epics = {m.remote_key: m.epic_id for m in JiraIssueMap.objects.filter(link=link, epic__isnull=False)}
    stories = {s.title: s.epic_id for s in Story.objects.filter(product=link.product)}
    assert stories == {"Cache tiles": epics[offline["key"]], "Share a link": epics[sharing["key"]], "Loose end": None}
    # The reconcile right after finds nothing to change and writes nothing to Jira.
    writes = len(fake_jira_dc.writes)
    for m in JiraIssueMap.objects.filter(link=link, story__isnull=False):
        sync.sync_story(link=link, story_id=m.story_id, client=sync.JiraClient.for_connection(connection))
    assert len(fake_jira_dc.writes) == writes
    assert {s.title: s.epic_id for s in Story.objects.filter(product=link.product)} == stories


def test_a_data_center_site_without_the_epic_link_field_syncs_everything_else(admin, workspace, fake_jira_dc):
    fake_jira_dc.epic_link_listed = False
    connection, _, link = connect(admin, workspace, fake_jira_dc)
    epic = backlog.epic_create(actor=admin, product=link.product, title="Offline")
    s = story(admin, link.product, title="Cache tiles", epic_id=epic.id)
    issue = fake_jira_dc.find(JiraIssueMap.objects.get(story=s).remote_key)
    assert issue["fields"]["summary"] == "Cache tiles" and issue["fields"]["parent"] is None
    assert not JiraSyncLog.objects.filter(result="failed").exists()
    assert not [b for _, _, b in fake_jira_dc.writes if b and {"parent", EPIC_LINK_FIELD} & set(b.get("fields") or {})]
