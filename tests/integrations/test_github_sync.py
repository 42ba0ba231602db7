"""GitHub issues synced two ways through the one sync engine (docs/decisions/1720), against a fake
GitHub checked against GitHub's published REST description. Worker-driven tasks run eagerly here;
tests/integration/test_github_sync_worker.py runs the same paths in a real Celery worker."""

import pytest

from backlog import services as backlog
from backlog.models import Story
from integrations.jira import services as jira_services
from integrations.jira.models import JiraConnection, JiraDelivery, JiraIssueMap, JiraOutbox, JiraSyncLog

from .github_helpers import REPO, deliver, sync_issues

pytestmark = pytest.mark.django_db(transaction=True)


def story(admin, product, title="Export roadmap", **data):
    return backlog.story_create(actor=admin, product=product, title=title, **data)


def test_the_connection_test_and_discovery_map_open_closed_and_status_labels(admin, workspace, fake_github):
    connection, secret, link = sync_issues(admin, workspace, fake_github)
    connection.refresh_from_db()
    link.refresh_from_db()
    assert connection.kind == "github" and connection.health == "ok" and connection.account_name == "pat-pm"
    assert fake_github.token not in connection.token_sealed and secret not in connection.secret_sealed
    assert [s["id"] for s in link.remote_statuses] == ["open", "label:In review", "label:In progress", "closed"]
    assert link.status_out["in_review"] == "label:In review" and link.status_out["done"] == "closed"
    assert link.status_in["closed"] == "done" and link.status_in["label:In progress"] == "in_progress"
    assert link.field_rules["points"]["direction"] == "once"  # GitHub issues have no points


def test_a_pmhub_story_becomes_an_issue_and_its_edits_and_status_go_to_github(admin, workspace, fake_github, client):
    connection, _, link = sync_issues(admin, workspace, fake_github)
    s = story(admin, link.product, title="Offline mode", description="Works **offline**", labels=["ios"], points=5)
    mapping = JiraIssueMap.objects.get(story=s)
    assert mapping.remote_key == "#1"
    issue = fake_github.issue(1)
    assert (issue["title"], issue["body"], [x["name"] for x in issue["labels"]]) == (
        "Offline mode",
        "Works **offline**",
        ["ios"],
    )
    backlog.story_status_set(actor=admin, story=s, status="in_review")
    assert [x["name"] for x in fake_github.issue(1)["labels"]] == ["ios", "In review"]
    backlog.story_status_set(actor=admin, story=s, status="done")
    assert fake_github.issue(1)["state"] == "closed"
    writes = len(fake_github.writes)
    version = Story.objects.get(id=s.id).version
    assert deliver(client, fake_github, connection, "closed", 1).status_code == 200  # our own change: no echo
    assert len(fake_github.writes) == writes and Story.objects.get(id=s.id).version == version


def test_a_github_edit_comes_to_pmhub_and_is_not_sent_back(admin, workspace, fake_github, client):
    connection, _, link = sync_issues(admin, workspace, fake_github)
    s = story(admin, link.product, title="Offline mode")
    fake_github.edit(1, title="Offline mode v2", body="Now with *sync*", labels=["In progress", "android"])
    writes = len(fake_github.writes)
    assert deliver(client, fake_github, connection, "edited", 1).json() == {"detail": "queued"}
    s.refresh_from_db()
    assert (s.title, s.description, s.status, s.labels) == (
        "Offline mode v2",
        "Now with *sync*",
        "in_progress",
        ["android"],
    )
    assert len(fake_github.writes) == writes
    line = JiraSyncLog.objects.filter(story=s, direction="in").first()
    assert line.result == "ok" and set(line.fields) >= {"title", "description", "status", "labels"}


@pytest.mark.parametrize(("rule", "winner_title"), [("pmhub", "Ours"), ("jira", "Theirs"), ("later", "Theirs")])
def test_a_conflict_is_decided_by_each_rule_and_logged_with_both_values(
    admin, workspace, fake_github, rule, winner_title
):
    connection, _, link = sync_issues(
        admin, workspace, fake_github, field_rules={"title": {"direction": "both", "rule": rule}}
    )
    s = story(admin, link.product, title="Base")
    JiraProjectLink = link.__class__
    JiraProjectLink.objects.filter(id=link.id).update(active=False)  # hold our change back a moment
    backlog.story_update(actor=admin, story=s, data={"title": "Ours"}, version=None)
    fake_github.clock_offset = __import__("datetime").timedelta(minutes=5)  # GitHub's edit is the later one
    fake_github.edit(1, title="Theirs")
    JiraProjectLink.objects.filter(id=link.id).update(active=True)
    assert jira_services.reconcile_all() == 1
    s.refresh_from_db()
    assert s.title == winner_title and fake_github.issue(1)["title"] == winner_title
    line = JiraSyncLog.objects.get(story=s, result="conflict")
    assert (
        line.detail["conflicts"]["title"]["pmhub"] == "Ours" and line.detail["conflicts"]["title"]["jira"] == "Theirs"
    )


def test_a_delivery_twice_is_one_change_and_a_forged_one_changes_nothing(admin, workspace, fake_github, client):
    connection, _, link = sync_issues(admin, workspace, fake_github)
    s = story(admin, link.product, title="Offline mode")
    fake_github.edit(1, title="Renamed on GitHub")
    from pmhub.secretbox import unseal

    body, headers = fake_github.webhook("edited", 1, secret=unseal(connection.secret_sealed))
    url = f"/integrations/github-issues/{connection.hook_token}/"
    from .github_helpers import post_hook

    assert post_hook(client, url, body, headers).json() == {"detail": "queued"}
    assert post_hook(client, url, body, headers).json() == {"detail": "already processed"}
    assert JiraDelivery.objects.filter(connection=connection).count() == 1
    s.refresh_from_db()
    version = s.version
    fake_github.edit(1, title="Forged")
    forged, forged_headers = fake_github.webhook("edited", 1, secret="not-the-secret")
    assert post_hook(client, url, forged, forged_headers).status_code == 401
    tampered = body.replace(b"Renamed on GitHub", b"Tampered title!!")
    assert post_hook(client, url, tampered, {**headers, "X-GitHub-Delivery": "other"}).status_code == 401
    assert post_hook(client, "/integrations/github-issues/unknown/", body, headers).status_code == 404
    assert JiraDelivery.objects.filter(connection=connection).count() == 1
    assert Story.objects.get(id=s.id).version == version


def test_a_lost_webhook_is_healed_by_the_reconcile(admin, workspace, fake_github):
    connection, _, link = sync_issues(admin, workspace, fake_github)
    s = story(admin, link.product, title="Offline mode")
    fake_github.clock_offset = __import__("datetime").timedelta(minutes=1)
    fake_github.edit(1, state="closed")  # no webhook arrives
    jira_services.reconcile_all()
    s.refresh_from_db()
    assert s.status == "done"
    again = len(fake_github.requests)
    jira_services.reconcile_all()  # nothing new: one read, no writes
    assert Story.objects.get(id=s.id).status == "done" and len(fake_github.requests) == again + 1


def test_a_rate_limit_is_logged_as_retrying_and_the_change_arrives(admin, workspace, fake_github, eager_retries):
    """(The wait itself, never sooner than Retry-After, is timed in the real worker's test.)"""
    connection, _, link = sync_issues(admin, workspace, fake_github)
    fake_github.rate_limit(1, retry_after=2, status=403)  # a secondary rate limit
    s = story(admin, link.product, title="Offline mode")
    line = JiraSyncLog.objects.get(result="retrying")
    assert "rate limit" in line.error and line.story_id == s.id
    assert JiraOutbox.objects.get(story_id=s.id).status == "sent" and fake_github.issue(1)["title"] == "Offline mode"


def test_an_expired_token_shows_in_the_log_then_a_new_one_fixes_it(admin, workspace, fake_github, eager_retries):
    connection, _, link = sync_issues(admin, workspace, fake_github)
    fake_github.revoke()
    s = story(admin, link.product, title="Offline mode")
    connection.refresh_from_db()
    assert connection.health == JiraConnection.Health.AUTH and "expired or was revoked" in connection.last_error
    assert JiraOutbox.objects.get(story_id=s.id).status == "failed"
    fake_github.grant("github_pat_new")
    jira_services.connection_update(
        user=admin, connection=connection, data={"token": "github_pat_new"}, version=connection.version
    )
    assert jira_services.outbox_retry(user=admin, connection=connection) == 1
    connection.refresh_from_db()
    assert connection.health == "ok" and fake_github.issue(1)["title"] == "Offline mode"


def test_the_initial_import_pages_through_1000_issues_without_duplicates(admin, workspace, fake_github):
    for n in range(1000):
        fake_github.create_issue(
            title=f"Issue {n}",
            state="closed" if n % 3 == 0 else "open",
            labels=["In progress"] if n % 3 == 1 else ["bug"],
            body=f"Body **{n}**",
        )
    fake_github.create_issue(title="A pull request", pull_request=True)
    connection, _, link = sync_issues(admin, workspace, fake_github)
    jira_services.import_preview_queue(user=admin, link=link)
    link.refresh_from_db()
    assert link.preview["counts"] == {"create": 1000, "link": 0, "skip": 0}  # the pull request is not an issue
    jira_services.import_run_queue(user=admin, link=link)
    assert Story.objects.filter(product=link.product).count() == 1000
    assert JiraIssueMap.objects.filter(link=link).count() == 1000
    s = Story.objects.get(product=link.product, title="Issue 4")
    assert (s.status, s.labels, s.description) == ("in_progress", [], "Body **4**")
    assert Story.objects.get(product=link.product, title="Issue 3").status == "done"
    pages = [p for m, p in fake_github.requests if p == f"/repos/{REPO}/issues"]
    assert len(pages) == 2 * 11  # preview and import, 100 a page, following the Link header
    jira_services.import_preview_queue(user=admin, link=link)
    link.refresh_from_db()
    assert link.preview["counts"] == {"create": 0, "link": 0, "skip": 1000}
    jira_services.import_run_queue(user=admin, link=link)
    assert Story.objects.filter(product=link.product).count() == 1000
    assert not JiraOutbox.objects.exists()  # the import's own writes are not sent back


def test_no_echo_after_100_round_trips(admin, workspace, fake_github, client):
    connection, _, link = sync_issues(admin, workspace, fake_github)
    s = story(admin, link.product, title="Round 0")
    for n in range(1, 51):
        backlog.story_update(actor=admin, story=Story.objects.get(id=s.id), data={"title": f"Ours {n}"}, version=None)
        assert deliver(client, fake_github, connection, "edited", 1).status_code == 200  # the echo of ours
        fake_github.edit(1, title=f"Theirs {n}")
        assert deliver(client, fake_github, connection, "edited", 1).status_code == 200
    s.refresh_from_db()
    assert s.title == "Theirs 50" and fake_github.issue(1)["title"] == "Theirs 50"
    patches = [w for w in fake_github.writes if w[0] == "PATCH"]
    assert len(patches) == 50  # one per PMHub edit: nothing bounced back
    writes, version = len(fake_github.writes), s.version
    assert deliver(client, fake_github, connection, "edited", 1).status_code == 200
    jira_services.reconcile_all()
    assert len(fake_github.writes) == writes and Story.objects.get(id=s.id).version == version


@pytest.mark.parametrize(("action", "status"), [("deleted", 410), ("transferred", 301)])
def test_a_deleted_or_transferred_issue_unlinks_and_the_story_stays(
    admin, workspace, fake_github, client, action, status
):
    connection, _, link = sync_issues(admin, workspace, fake_github)
    s = story(admin, link.product, title="Offline mode")
    fake_github.remove(1, status=status)
    assert deliver(client, fake_github, connection, action, 1).status_code == 200
    mapping = JiraIssueMap.objects.get(link=link, remote_id="1")
    assert mapping.unlinked_at is not None and Story.objects.filter(id=s.id).exists()
    backlog.story_update(actor=admin, story=Story.objects.get(id=s.id), data={"title": "Still here"}, version=None)
    assert not [w for w in fake_github.writes if w[0] == "PATCH"]


def test_an_issue_gone_without_a_webhook_unlinks_on_the_next_push(admin, workspace, fake_github):
    connection, _, link = sync_issues(admin, workspace, fake_github)
    s = story(admin, link.product, title="Offline mode")
    fake_github.remove(1, status=410)
    backlog.story_update(actor=admin, story=s, data={"title": "Renamed"}, version=None)
    assert JiraIssueMap.objects.get(story=s).unlinked_at is not None
    assert JiraSyncLog.objects.filter(detail__note__icontains="Issue deleted").exists()


def test_people_are_matched_by_the_login_map_and_an_unmatched_one_is_reported(
    admin, editor, workspace, fake_github, client
):
    connection, _, link = sync_issues(admin, workspace, fake_github)
    link.__class__.objects.filter(id=link.id).update(user_map={editor.email: "eddie"})
    s = story(admin, link.product, title="Offline mode", assignee_id=editor.id)
    assert [a["login"] for a in fake_github.issue(1)["assignees"]] == ["eddie"]
    fake_github.edit(1, assignees=["stranger"])
    deliver(client, fake_github, connection, "assigned", 1)
    s.refresh_from_db()
    assert s.assignee_id == editor.id  # not guessed
    line = JiraSyncLog.objects.filter(story=s).first()
    assert "stranger@users.noreply.github.com has no PMHub account" in line.error


def test_a_github_connection_syncs_one_repository(admin, workspace, fake_github):
    from django.core.exceptions import ValidationError

    from tests.roadmaps.factories import ProductFactory

    connection, _, link = sync_issues(admin, workspace, fake_github)
    with pytest.raises(ValidationError) as err:
        jira_services.link_create(user=admin, connection=connection, product=ProductFactory(workspace=workspace),
                                  project_key="acme/other")
    assert "one repository" in str(err.value.message_dict["product"])
    assert connection.links.count() == 1
    with pytest.raises(ValidationError) as bad:
        jira_services.link_create(user=admin, connection=connection, product=link.product, project_key="not a repo")
    assert "owner/name" in str(bad.value.message_dict["project_key"])
