"""The Jira sync end to end through a real Celery worker, against the stateful fake Jira (real HTTP
on 127.0.0.1, every exchange checked against Atlassian's published OpenAPI description): edits on
both sides, a conflict under each rule, a 429 with Retry-After, a webhook delivered twice, a lost
webhook healed by the reconcile, an expired token shown then fixed, 1,000 issues imported with
paging (a re-run creates nothing), no echo after 100 round trips, a deleted remote issue."""

import time
from datetime import timedelta

import pytest
from django.test import Client

from backlog import services as backlog
from backlog.models import Story
from integrations.jira import services, tasks
from integrations.jira.adf import md_to_adf
from integrations.jira.models import JiraConnection, JiraDelivery, JiraIssueMap, JiraOutbox, JiraSyncLog
from pmhub.secretbox import unseal
from tests.integrations.fake_jira import POINTS_FIELD, FakeJira
from tests.integrations.jira_helpers import connect, post_webhook

from .conftest import settled
from .conftest import wait_for as _wait

pytestmark = pytest.mark.integration


@pytest.fixture
def fake(settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    jira = FakeJira()
    yield jira
    jira.close()
    assert not jira.violations, "\n".join(jira.violations[:10])


def _linked(admin, workspace, fake, worker, **kw):
    connection, _, link = connect(admin, workspace, fake, **kw)
    _wait(lambda: JiraConnection.objects.get(id=connection.id).health == "ok" and
          type(link).objects.get(id=link.id).status_out, worker, "the connection test and discovery")
    link.refresh_from_db()
    connection.refresh_from_db()
    return connection, link


def _webhook(client, fake, connection, event, issue_id, identifier=None):
    body, headers = fake.webhook(event, issue_id, secret=unseal(connection.secret_sealed), identifier=identifier)
    return post_webhook(client, connection, body, headers)


def test_edits_flow_both_ways_and_a_double_webhook_is_one_change(worker, fake, admin, workspace):
    connection, link = _linked(admin, workspace, fake, worker)
    s = backlog.story_create(actor=admin, product=link.product, title="Offline mode", points=3)
    mapping = _wait(lambda: JiraIssueMap.objects.filter(story=s).first(), worker, "the issue created in Jira")
    issue = fake.find(mapping.remote_key)
    assert issue["fields"]["summary"] == "Offline mode" and issue["fields"][POINTS_FIELD] == 3
    backlog.story_status_set(actor=admin, story=Story.objects.get(id=s.id), status="in_progress")
    _wait(lambda: issue["fields"]["status"] == "3", worker, "the status in Jira")

    fake.edit_issue(issue["id"], summary="Offline mode, v2", description=md_to_adf("Works **offline**"))
    client = Client()
    version = Story.objects.get(id=s.id).version
    first = _webhook(client, fake, connection, "jira:issue_updated", issue["id"], identifier="delivery-1")
    again = _webhook(client, fake, connection, "jira:issue_updated", issue["id"], identifier="delivery-1")
    assert first.json()["detail"] == "queued" and again.json()["detail"] == "already processed"
    _wait(lambda: Story.objects.get(id=s.id).title == "Offline mode, v2", worker, "the Jira edit in PMHub")
    settled(worker)
    s.refresh_from_db()
    assert s.description == "Works **offline**" and s.version == version + 1  # one change, once
    assert JiraDelivery.objects.filter(connection=connection).count() == 1


def test_a_conflict_under_each_rule(worker, fake, admin, workspace):
    rules = {"title": {"direction": "both", "rule": "pmhub"}, "labels": {"direction": "both", "rule": "jira"},
             "points": {"direction": "both", "rule": "later"}}
    connection, link = _linked(admin, workspace, fake, worker, field_rules=rules)
    s = backlog.story_create(actor=admin, product=link.product, title="Base", labels=["a"], points=1)
    mapping = _wait(lambda: JiraIssueMap.objects.filter(story=s).first(), worker, "the issue created in Jira")
    # Jira changes three fields (no webhook yet), then PMHub changes the same three.
    fake.clock_offset = timedelta(seconds=-30)  # Jira's points edit is the older one: PMHub's is later
    fake.edit_issue(mapping.remote_key, summary="Jira title", labels=["jira"], **{POINTS_FIELD: 8})
    fake.clock_offset = timedelta(0)
    backlog.story_update(actor=admin, story=Story.objects.get(id=s.id), version=None,
                         data={"title": "PMHub title", "labels": ["pmhub"], "points": 5})
    entry = _wait(lambda: JiraSyncLog.objects.filter(result="conflict").first(), worker, "the conflict")
    s.refresh_from_db()
    issue = fake.find(mapping.remote_key)["fields"]
    assert (s.title, issue["summary"]) == ("PMHub title", "PMHub title")  # PMHub wins
    assert (s.labels, issue["labels"]) == (["jira"], ["jira"])  # Jira wins
    assert (s.points, issue[POINTS_FIELD]) == (5, 5)  # the later change (PMHub's) wins
    conflicts = entry.detail["conflicts"]
    assert conflicts["title"] == {"pmhub": "PMHub title", "jira": "Jira title", "winner": "pmhub", "rule": "pmhub"}
    assert conflicts["labels"]["winner"] == "jira" and conflicts["points"]["winner"] == "pmhub"


def test_a_429_is_waited_out_for_its_retry_after(worker, fake, admin, workspace):
    connection, link = _linked(admin, workspace, fake, worker)
    fake.rate_limit(1, retry_after=3)
    s = backlog.story_create(actor=admin, product=link.product, title="Slow down")
    # the map row is written before the outbox row is marked sent: wait for the last of the two
    _wait(lambda: JiraOutbox.objects.filter(story_id=s.id, status="sent").exists()
          and JiraIssueMap.objects.filter(story=s).exists(), worker, "the issue after the 429", timeout=90)
    limited = next(a for a in fake.answers if a[3] == 429)
    after = next(a for a in fake.answers if a[0] > limited[0])
    assert after[0] - limited[0] >= 3  # never sooner than Jira asked
    row = JiraOutbox.objects.get(story_id=s.id)
    assert row.status == "sent" and row.attempts == 2
    assert JiraSyncLog.objects.filter(result="retrying", error__contains="429").exists()


def test_a_lost_webhook_is_healed_by_the_reconcile(worker, fake, admin, workspace):
    connection, link = _linked(admin, workspace, fake, worker)
    s = backlog.story_create(actor=admin, product=link.product, title="Before")
    mapping = _wait(lambda: JiraIssueMap.objects.filter(story=s).first(), worker, "the issue created in Jira")
    fake.edit_issue(mapping.remote_key, summary="Changed in Jira, webhook lost", status="10002")
    tasks.jira_reconcile_all.delay()
    _wait(lambda: Story.objects.get(id=s.id).title == "Changed in Jira, webhook lost", worker, "the reconcile")
    s.refresh_from_db()
    assert s.status == "done" and s.done_at is not None
    assert any("search/jql" in p for _, p in fake.requests)


def test_an_expired_token_is_shown_then_fixed(worker, fake, admin, workspace):
    connection, link = _linked(admin, workspace, fake, worker)
    fake.expire_token()
    s = backlog.story_create(actor=admin, product=link.product, title="While expired")
    # the row is marked failed before its log entry is written: wait for the last of the two
    _wait(lambda: JiraOutbox.objects.filter(story_id=s.id, status="failed").exists()
          and JiraSyncLog.objects.filter(result="failed").exists(), worker, "the failure")
    connection.refresh_from_db()
    assert connection.health == "auth" and "expired" in connection.last_error
    entry = JiraSyncLog.objects.get(result="failed")
    assert entry.story_id == s.id and "expired" in entry.error
    fake.renew_token("a-new-token")
    services.connection_update(user=admin, connection=connection, data={"token": "a-new-token"})
    services.outbox_retry(user=admin, connection=connection)
    _wait(lambda: JiraIssueMap.objects.filter(story=s).exists(), worker, "the retried change")
    _wait(lambda: JiraConnection.objects.get(id=connection.id).health == "ok", worker, "the health")


def test_1000_issues_are_imported_with_paging_and_a_rerun_creates_nothing(worker, fake, admin, workspace):
    for n in range(1000):
        fake.create_issue(summary=f"Issue {n}", status_id="3" if n % 3 == 0 else "10000", labels=["imported"])
    connection, link = _linked(admin, workspace, fake, worker)
    services.import_preview_queue(user=admin, link=link)
    _wait(lambda: type(link).objects.get(id=link.id).preview.get("state") == "ready", worker, "the preview")
    link.refresh_from_db()
    assert link.preview["counts"] == {"create": 1000, "link": 0, "skip": 0} and not Story.objects.exists()
    started = time.monotonic()
    services.import_run_queue(user=admin, link=link)
    _wait(lambda: type(link).objects.get(id=link.id).preview.get("state") == "done", worker, "the import", 180)
    elapsed = time.monotonic() - started
    assert Story.objects.filter(product=link.product).count() == 1000
    assert Story.objects.filter(product=link.product, status="in_progress").count() == 334
    pages = [p for m, p in fake.requests if p.endswith("/search/jql")]
    assert len(pages) == 22  # epics (none: 1 page), then 10 pages of 100 issues; preview and import
    assert not JiraOutbox.objects.exists()  # imported stories are not sent back
    services.import_preview_queue(user=admin, link=link)
    _wait(lambda: type(link).objects.get(id=link.id).preview.get("state") == "ready", worker, "the 2nd preview")
    link.refresh_from_db()
    assert link.preview["counts"] == {"create": 0, "link": 0, "skip": 1000}
    services.import_run_queue(user=admin, link=link)
    _wait(lambda: type(link).objects.get(id=link.id).preview.get("state") == "done", worker, "the re-run", 180)
    assert Story.objects.count() == 1000 and JiraIssueMap.objects.count() == 1000
    print(f"1,000 issues imported in {elapsed:.1f}s")


def test_no_echo_after_100_round_trips(worker, fake, admin, workspace):
    connection, link = _linked(admin, workspace, fake, worker)
    s = backlog.story_create(actor=admin, product=link.product, title="Round 0")
    mapping = _wait(lambda: JiraIssueMap.objects.filter(story=s).first(), worker, "the issue created in Jira")
    issue = fake.find(mapping.remote_key)
    client = Client()
    writes_before = len(fake.writes)
    version_before = Story.objects.get(id=s.id).version
    for n in range(1, 101):
        if n % 2:  # PMHub edits; Jira's webhook for that very edit comes back
            backlog.story_update(actor=admin, story=Story.objects.get(id=s.id), data={"title": f"Round {n}"},
                                 version=None)
            _wait(lambda n=n: issue["fields"]["summary"] == f"Round {n}", worker, f"round {n} in Jira")
        else:  # Jira edits; the change comes to PMHub
            fake.edit_issue(issue["id"], summary=f"Round {n}")
        _webhook(client, fake, connection, "jira:issue_updated", issue["id"])
        _wait(lambda n=n: Story.objects.get(id=s.id).title == f"Round {n}" and not JiraDelivery.objects.filter(
            processed_at=None).exists() and not JiraOutbox.objects.filter(status="pending").exists(),
            worker, f"round {n} settled")
    settled(worker)
    # 50 PMHub edits: exactly 50 writes to Jira; 100 title changes in PMHub: 50 own + 50 from Jira.
    assert len(fake.writes) - writes_before == 50
    assert Story.objects.get(id=s.id).version - version_before == 100
    assert not JiraOutbox.objects.filter(status="pending").exists()


def test_a_deleted_remote_issue_unlinks_the_story(worker, fake, admin, workspace):
    connection, link = _linked(admin, workspace, fake, worker)
    s = backlog.story_create(actor=admin, product=link.product, title="Delete me in Jira")
    mapping = _wait(lambda: JiraIssueMap.objects.filter(story=s).first(), worker, "the issue created in Jira")
    body, headers = fake.webhook("jira:issue_deleted", mapping.remote_id, secret=unseal(connection.secret_sealed))
    del fake.issues[mapping.remote_id]
    assert post_webhook(Client(), connection, body, headers).status_code == 200
    _wait(lambda: JiraIssueMap.objects.get(id=mapping.id).unlinked_at is not None, worker, "the unlink")
    assert Story.objects.filter(id=s.id).exists()  # unlink by default, the story stays
    assert any("Issue deleted in Jira" in e.detail.get("note", "") for e in JiraSyncLog.objects.all())
    # A later PMHub edit of the unlinked story creates nothing in Jira.
    backlog.story_update(actor=admin, story=Story.objects.get(id=s.id), data={"title": "Still here"}, version=None)
    settled(worker)
    assert not fake.issues
