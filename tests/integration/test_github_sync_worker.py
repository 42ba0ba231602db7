"""The GitHub issue sync end to end through a real Celery worker, against the stateful fake GitHub
(real HTTP on 127.0.0.1, every exchange checked against GitHub's published REST description):
edits on both sides, a conflict under each rule, a secondary rate limit with Retry-After, a
delivery twice, a lost webhook healed by the reconcile, an expired token shown then fixed, 1,000
issues imported through Link-header paging (a re-run creates nothing), no echo after 100 round
trips, a deleted and a transferred issue."""

import time
from datetime import timedelta

import pytest
from django.test import Client

from backlog import services as backlog
from backlog.models import Story
from integrations.jira import services, tasks
from integrations.jira.models import JiraConnection, JiraDelivery, JiraIssueMap, JiraOutbox, JiraSyncLog
from pmhub.secretbox import unseal
from tests.integrations.fake_github import FakeGitHub
from tests.integrations.github_helpers import REPO, deliver, post_hook, sync_issues

from .conftest import settled
from .conftest import wait_for as _wait

pytestmark = pytest.mark.integration


@pytest.fixture
def fake(settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    github = FakeGitHub()
    yield github
    github.close()
    assert not github.violations, "\n".join(github.violations[:10])


def _linked(admin, workspace, fake, worker, **kw):
    connection, _, link = sync_issues(admin, workspace, fake, **kw)
    _wait(
        lambda: (
            JiraConnection.objects.get(id=connection.id).health == "ok"
            and JiraSyncLog.objects.filter(connection=connection, direction="check", result="ok").count() == 2
            and type(link).objects.get(id=link.id).status_out
        ),
        worker,
        "the connection test and discovery",
    )
    link.refresh_from_db()
    connection.refresh_from_db()
    return connection, link


def _created(s, worker):
    return _wait(lambda: JiraIssueMap.objects.filter(story=s).first(), worker, "the issue created on GitHub")


def test_edits_flow_both_ways_and_a_double_delivery_is_one_change(worker, fake, admin, workspace):
    connection, link = _linked(admin, workspace, fake, worker)
    s = backlog.story_create(actor=admin, product=link.product, title="Offline mode", description="Works *offline*")
    number = int(_created(s, worker).remote_id)
    assert fake.issue(number)["body"] == "Works *offline*"
    backlog.story_status_set(actor=admin, story=Story.objects.get(id=s.id), status="in_review")
    _wait(lambda: [x["name"] for x in fake.issue(number)["labels"]] == ["In review"], worker, "the status label")

    fake.edit(number, title="Offline mode, v2", state="closed")
    body, headers = fake.webhook("closed", number, secret=unseal(connection.secret_sealed))
    url = f"/integrations/github-issues/{connection.hook_token}/"
    client = Client()
    assert post_hook(client, url, body, headers).json()["detail"] == "queued"
    assert post_hook(client, url, body, headers).json()["detail"] == "already processed"
    _wait(lambda: Story.objects.get(id=s.id).status == "done", worker, "GitHub's change in PMHub")
    s.refresh_from_db()
    assert s.title == "Offline mode, v2" and JiraDelivery.objects.count() == 1


def test_a_conflict_under_each_rule(worker, fake, admin, workspace):
    rules = {
        "title": {"direction": "both", "rule": "pmhub"},
        "labels": {"direction": "both", "rule": "jira"},
        "description": {"direction": "both", "rule": "later"},
    }
    connection, link = _linked(admin, workspace, fake, worker, field_rules=rules)
    s = backlog.story_create(actor=admin, product=link.product, title="Base", labels=["a"], description="base")
    number = int(_created(s, worker).remote_id)
    fake.clock_offset = timedelta(seconds=-30)  # GitHub's edits are the older ones: PMHub's is later
    fake.edit(number, title="GitHub title", labels=["github"], body="from GitHub")
    fake.clock_offset = timedelta(0)
    backlog.story_update(
        actor=admin,
        story=Story.objects.get(id=s.id),
        version=None,
        data={"title": "PMHub title", "labels": ["pmhub"], "description": "from PMHub"},
    )
    entry = _wait(lambda: JiraSyncLog.objects.filter(result="conflict").first(), worker, "the conflict")
    s.refresh_from_db()
    issue = fake.issue(number)
    assert (s.title, issue["title"]) == ("PMHub title", "PMHub title")  # PMHub wins
    assert (s.labels, [x["name"] for x in issue["labels"]]) == (["github"], ["github"])  # GitHub wins
    assert (s.description, issue["body"]) == ("from PMHub", "from PMHub")  # the later change (PMHub's) wins
    conflicts = entry.detail["conflicts"]
    assert conflicts["title"] == {"pmhub": "PMHub title", "jira": "GitHub title", "winner": "pmhub", "rule": "pmhub"}
    assert conflicts["labels"]["winner"] == "jira" and conflicts["description"]["winner"] == "pmhub"


@pytest.mark.parametrize("status", [429, 403])
def test_a_rate_limit_is_waited_out_for_its_retry_after(worker, fake, admin, workspace, status):
    connection, link = _linked(admin, workspace, fake, worker)
    fake.rate_limit(1, retry_after=3, status=status)  # primary (429) or secondary (403 + Retry-After)
    s = backlog.story_create(actor=admin, product=link.product, title="Slow down")
    # the map row is written before the outbox row is marked sent: wait for the last of the two
    _wait(lambda: JiraOutbox.objects.filter(story_id=s.id, status="sent").exists()
          and JiraIssueMap.objects.filter(story=s).exists(), worker, "the issue after the limit", timeout=90)
    limited = next(a for a in fake.answers if a[3] == status)
    after = next(a for a in fake.answers if a[0] > limited[0])
    assert after[0] - limited[0] >= 3, fake.answers  # never sooner than GitHub asked
    row = JiraOutbox.objects.get(story_id=s.id)
    assert row.status == "sent" and row.attempts == 2
    assert JiraSyncLog.objects.filter(result="retrying", error__contains="rate limit").exists()


def test_a_lost_webhook_is_healed_by_the_reconcile(worker, fake, admin, workspace):
    connection, link = _linked(admin, workspace, fake, worker)
    s = backlog.story_create(actor=admin, product=link.product, title="Before")
    number = int(_created(s, worker).remote_id)
    fake.clock_offset = timedelta(seconds=5)
    fake.edit(number, title="Changed on GitHub, webhook lost", state="closed")
    tasks.jira_reconcile_all.delay()
    _wait(lambda: Story.objects.get(id=s.id).title == "Changed on GitHub, webhook lost", worker, "the reconcile")
    assert Story.objects.get(id=s.id).status == "done"
    assert any(p == f"/repos/{REPO}/issues" for _, p in fake.requests)


def test_an_expired_token_is_shown_then_fixed(worker, fake, admin, workspace):
    connection, link = _linked(admin, workspace, fake, worker)
    fake.revoke()
    s = backlog.story_create(actor=admin, product=link.product, title="While expired")
    # the row is marked failed before its log entry is written: wait for the last of the two
    _wait(lambda: JiraOutbox.objects.filter(story_id=s.id, status="failed").exists()
          and JiraSyncLog.objects.filter(result="failed").exists(), worker, "the failure")
    connection.refresh_from_db()
    assert connection.health == "auth" and "expired" in connection.last_error
    entry = JiraSyncLog.objects.get(result="failed")
    assert entry.story_id == s.id and "expired" in entry.error
    fake.grant("github_pat_new")
    services.connection_update(user=admin, connection=connection, data={"token": "github_pat_new"})
    services.outbox_retry(user=admin, connection=connection)
    _wait(lambda: JiraIssueMap.objects.filter(story=s).exists(), worker, "the retried change")
    _wait(lambda: JiraConnection.objects.get(id=connection.id).health == "ok", worker, "the health")


def test_1000_issues_are_imported_with_link_paging_and_a_rerun_creates_nothing(worker, fake, admin, workspace):
    for n in range(1000):
        fake.create_issue(title=f"Issue {n}", state="closed" if n % 3 == 0 else "open", labels=["imported"])
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
    assert Story.objects.filter(product=link.product, status="done").count() == 334
    assert len([p for m, p in fake.requests if p == f"/repos/{REPO}/issues"]) == 20  # 10 pages, twice
    assert not JiraOutbox.objects.exists()
    services.import_preview_queue(user=admin, link=link)
    _wait(lambda: type(link).objects.get(id=link.id).preview.get("state") == "ready", worker, "the 2nd preview")
    link.refresh_from_db()
    assert link.preview["counts"] == {"create": 0, "link": 0, "skip": 1000}
    services.import_run_queue(user=admin, link=link)
    _wait(lambda: type(link).objects.get(id=link.id).preview.get("state") == "done", worker, "the re-run", 180)
    assert Story.objects.count() == 1000 and JiraIssueMap.objects.count() == 1000
    print(f"1,000 GitHub issues imported in {elapsed:.1f}s")


def test_no_echo_after_100_round_trips(worker, fake, admin, workspace):
    connection, link = _linked(admin, workspace, fake, worker)
    s = backlog.story_create(actor=admin, product=link.product, title="Round 0")
    number = int(_created(s, worker).remote_id)
    client = Client()
    writes_before = len(fake.writes)
    version_before = Story.objects.get(id=s.id).version
    for n in range(1, 101):
        if n % 2:  # PMHub edits; GitHub's webhook for that very edit comes back
            backlog.story_update(
                actor=admin, story=Story.objects.get(id=s.id), data={"title": f"Round {n}"}, version=None
            )
            _wait(lambda n=n: fake.issue(number)["title"] == f"Round {n}", worker, f"round {n} on GitHub")
        else:
            fake.edit(number, title=f"Round {n}")
        deliver(client, fake, connection, "edited", number)
        _wait(
            lambda n=n: (
                Story.objects.get(id=s.id).title == f"Round {n}"
                and not JiraDelivery.objects.filter(processed_at=None).exists()
                and not JiraOutbox.objects.filter(status="pending").exists()
            ),
            worker,
            f"round {n} settled",
        )
    settled(worker)
    assert len(fake.writes) - writes_before == 50  # 50 PMHub edits, 50 writes: nothing bounced back
    assert Story.objects.get(id=s.id).version - version_before == 100
    assert not JiraOutbox.objects.filter(status="pending").exists()


@pytest.mark.parametrize(("action", "status"), [("deleted", 410), ("transferred", 301)])
def test_a_deleted_or_transferred_issue_unlinks_the_story(worker, fake, admin, workspace, action, status):
    connection, link = _linked(admin, workspace, fake, worker)
    s = backlog.story_create(actor=admin, product=link.product, title="Gone on GitHub")
    mapping = _created(s, worker)
    fake.remove(int(mapping.remote_id), status=status)
    assert deliver(Client(), fake, connection, action, int(mapping.remote_id)).status_code == 200
    _wait(lambda: JiraIssueMap.objects.get(id=mapping.id).unlinked_at is not None, worker, "the unlink")
    assert Story.objects.filter(id=s.id).exists()
    writes = len(fake.writes)
    backlog.story_update(actor=admin, story=Story.objects.get(id=s.id), data={"title": "Still here"}, version=None)
    settled(worker)
    assert len(fake.writes) == writes
