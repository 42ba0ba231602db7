"""Jira Data Center end to end through a real Celery worker, against the fake in its Data Center
mode (REST v2, personal access token, wiki markup, usernames, startAt paging, webhooks without a
delivery identifier; every exchange checked against the Data Center description in
tests/integrations/data/): edits both ways, a redelivered webhook, an import with paging, a conflict."""


import pytest
from django.test import Client

from backlog import services as backlog
from backlog.models import Story
from integrations.jira import services
from integrations.jira.models import JiraConnection, JiraDelivery, JiraIssueMap, JiraSyncLog
from pmhub.secretbox import unseal
from tests.integrations.fake_jira import EPIC_LINK_FIELD, FakeJira
from tests.integrations.jira_helpers import connect, post_webhook

from .conftest import settled
from .conftest import wait_for as _wait

pytestmark = pytest.mark.integration


@pytest.fixture
def fake(settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    jira = FakeJira(kind="dc")
    yield jira
    jira.close()
    assert not jira.violations, "\n".join(jira.violations[:10])


def _linked(admin, workspace, fake, worker, **kw):
    connection, _, link = connect(admin, workspace, fake, **kw)
    _wait(
        lambda: (
            JiraConnection.objects.get(id=connection.id).health == "ok"
            and type(link).objects.get(id=link.id).status_out
        ),
        worker,
        "the connection test and discovery",
    )
    link.refresh_from_db()
    connection.refresh_from_db()
    return connection, link


def test_edits_flow_both_ways_in_wiki_markup_and_a_redelivered_webhook_is_one_change(worker, fake, admin, workspace):
    connection, link = _linked(admin, workspace, fake, worker)
    assert connection.kind == "dc"
    s = backlog.story_create(actor=admin, product=link.product, title="Offline mode", description="Works **offline**")
    mapping = _wait(lambda: JiraIssueMap.objects.filter(story=s).first(), worker, "the issue created in Jira")
    issue = fake.find(mapping.remote_key)
    assert issue["fields"]["description"] == "Works *offline*"
    backlog.story_status_set(actor=admin, story=Story.objects.get(id=s.id), status="in_progress")
    _wait(lambda: issue["fields"]["status"] == "3", worker, "the status in Jira")

    fake.edit_issue(issue["id"], summary="Offline mode, v2", description="h2. Plan\n\n* _tiles_\n* {{cache}}")
    body, headers = fake.webhook("jira:issue_updated", issue["id"], secret=unseal(connection.secret_sealed))
    client = Client()
    version = Story.objects.get(id=s.id).version
    assert post_webhook(client, connection, body, headers).json()["detail"] == "queued"
    assert post_webhook(client, connection, body, headers).json()["detail"] == "already processed"
    _wait(lambda: Story.objects.get(id=s.id).title == "Offline mode, v2", worker, "the Jira edit in PMHub")
    settled(worker)
    s.refresh_from_db()
    assert s.description == "## Plan\n\n- *tiles*\n- `cache`" and s.version == version + 1
    assert JiraDelivery.objects.filter(connection=connection).count() == 1
    assert not [p for _, p in fake.requests if p.startswith("/rest/api/3/")]


def test_an_import_pages_with_start_at_through_the_worker(worker, fake, admin, workspace):
    for n in range(260):
        fake.create_issue(summary=f"Issue {n}", description=f"Line _{n}_")
    connection, link = _linked(admin, workspace, fake, worker)
    services.import_preview_queue(user=admin, link=link)
    _wait(lambda: type(link).objects.get(id=link.id).preview.get("state") == "ready", worker, "the preview")
    services.import_run_queue(user=admin, link=type(link).objects.get(id=link.id))
    _wait(lambda: Story.objects.filter(product=link.product).count() == 260, worker, "the import", timeout=120)
    assert Story.objects.get(product=link.product, title="Issue 9").description == "Line *9*"
    starts = sorted({int(p.split("=")[-1]) for p in fake.search_starts})
    assert starts[:3] == [0, 100, 200]


def test_a_conflict_on_data_center_is_decided_by_rule(worker, fake, admin, workspace):
    rules = {"title": {"direction": "both", "rule": "pmhub"}, "description": {"direction": "both", "rule": "jira"}}
    connection, link = _linked(admin, workspace, fake, worker, field_rules=rules)
    s = backlog.story_create(actor=admin, product=link.product, title="Base", description="Base")
    mapping = _wait(lambda: JiraIssueMap.objects.filter(story=s).first(), worker, "the issue created in Jira")
    fake.edit_issue(mapping.remote_key, summary="Jira title", description="From *Jira*")
    backlog.story_update(
        actor=admin,
        story=Story.objects.get(id=s.id),
        version=None,
        data={"title": "PMHub title", "description": "From PMHub"},
    )
    entry = _wait(lambda: JiraSyncLog.objects.filter(result="conflict").first(), worker, "the conflict")
    s.refresh_from_db()
    issue = fake.find(mapping.remote_key)["fields"]
    assert (s.title, issue["summary"]) == ("PMHub title", "PMHub title")
    assert (s.description, issue["description"]) == ("From **Jira**", "From *Jira*")
    assert entry.detail["conflicts"]["description"] == {
        "pmhub": "From PMHub",
        "jira": "From **Jira**",
        "winner": "jira",
        "rule": "jira",
    }


def test_the_epic_link_goes_both_ways_through_the_worker(worker, fake, admin, workspace):
    connection, link = _linked(admin, workspace, fake, worker)
    offline = backlog.epic_create(actor=admin, product=link.product, title="Offline")
    sharing = backlog.epic_create(actor=admin, product=link.product, title="Sharing")
    epic_maps = [
        _wait(lambda e=e: JiraIssueMap.objects.filter(epic=e).first(), worker, "the epic in Jira")
        for e in (offline, sharing)
    ]
    s = backlog.story_create(actor=admin, product=link.product, title="Cache tiles", epic_id=offline.id)
    mapping = _wait(lambda: JiraIssueMap.objects.filter(story=s).first(), worker, "the story in Jira")
    issue = fake.find(mapping.remote_key)
    assert fake.issue_json(issue)["fields"][EPIC_LINK_FIELD] == epic_maps[0].remote_key
    fake.edit_issue(issue["id"], parent=epic_maps[1].remote_id)
    writes = len(fake.writes)
    body, headers = fake.webhook("jira:issue_updated", issue["id"], secret=unseal(connection.secret_sealed))
    assert post_webhook(Client(), connection, body, headers).json()["detail"] == "queued"
    _wait(lambda: Story.objects.get(id=s.id).epic_id == sharing.id, worker, "the Epic Link change in PMHub")
    settled(worker)
    assert len(fake.writes) == writes  # no echo
    assert not [b for _, _, b in fake.writes if b and "parent" in (b.get("fields") or {})]
