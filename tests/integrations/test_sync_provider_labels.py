"""A GitHub issue sync runs through the Jira sync engine (decision 1720), but its pages, log lines and
notifications name GitHub, and fields GitHub does not have are not offered (decision 1722); a Jira
connection still reads as Jira. Real stack: the fake providers over pmhub.outbound, tasks eager."""

import datetime
import re

import pytest

from backlog import services as backlog
from integrations.jira import services as jira_services
from integrations.jira.models import JiraProjectLink, JiraSyncLog
from pmhub.models import Notification

from .github_helpers import deliver, sync_issues
from .jira_helpers import connect

pytestmark = pytest.mark.django_db(transaction=True)


def _text(html: str) -> str:
    """What a person reads of the page's own content (<main>; the workspace menu is the same for every
    page): no tags, attributes, URLs or scripts."""
    html = html[html.index('<main id="main"') : html.index("</main>")]
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def _pages(client, workspace, connection, link) -> dict:
    base = f"/w/{workspace.slug}/jira/{connection.id}/"
    pages = {"connection": client.get(base), "link": client.get(f"{base}links/{link.id}/")}
    assert {name: r.status_code for name, r in pages.items()} == {"connection": 200, "link": 200}
    return {name: r.content.decode() for name, r in pages.items()}


def _github_history(admin, editor, workspace, fake_github, client):
    """A GitHub sync with a line of each kind: out, in, a conflict, an unmatched assignee."""
    connection, _, link = sync_issues(
        admin, workspace, fake_github, field_rules={"title": {"direction": "both", "rule": "jira"}}
    )
    s = backlog.story_create(actor=admin, product=link.product, title="Base", assignee_id=editor.id)
    JiraProjectLink.objects.filter(id=link.id).update(active=False)
    backlog.story_update(actor=admin, story=s, data={"title": "Ours"}, version=None)
    fake_github.clock_offset = datetime.timedelta(minutes=5)
    fake_github.edit(1, title="Theirs", assignees=["stranger"])
    JiraProjectLink.objects.filter(id=link.id).update(active=True)
    assert jira_services.reconcile_all() == 1
    deliver(client, fake_github, connection, "assigned", 1)
    return connection, link


def test_a_github_connections_pages_and_log_never_say_jira(admin, editor, workspace, fake_github, client, client_as):
    connection, link = _github_history(admin, editor, workspace, fake_github, client)
    log = JiraSyncLog.objects.filter(connection=connection)
    assert {"out", "in"} <= set(log.values_list("direction", flat=True))  # stored codes unchanged
    assert log.filter(result="conflict").exists()
    unmatched = log.filter(error__contains="has no PMHub account").first()
    assert unmatched is not None and "assignee: GitHub assignee stranger" in unmatched.error
    pages = _pages(client_as(admin), workspace, connection, link)
    for name, html in pages.items():
        text = _text(html)
        assert "Jira" not in text, (name, text[text.find("Jira") - 80 : text.find("Jira") + 80])
        assert "JQL" not in text and "story points field" not in text and "Issue type" not in text, name
    connection_page, link_page = _text(pages["connection"]), _text(pages["link"])
    assert "PMHub to GitHub" in connection_page and "GitHub to PMHub" in connection_page
    assert "GitHub “Theirs” → GitHub kept" in connection_page  # the conflict, in GitHub's name
    assert "Repository (owner/name)" in connection_page and "Add the webhook" not in connection_page
    assert "GitHub wins" in link_page and "PMHub to GitHub" in link_page and "Import issues from GitHub" in link_page
    assert 'name="direction_title"' in pages["link"]
    for hidden in ("points", "epic", "release"):
        assert f'name="direction_{hidden}"' not in pages["link"], hidden
    assert 'name="jql"' not in pages["link"] and 'name="story_issue_type"' not in pages["link"]


def test_saving_a_github_links_settings_keeps_the_rules_of_fields_it_does_not_show(
    admin, workspace, fake_github, client_as
):
    connection, _, link = sync_issues(admin, workspace, fake_github)
    kept = dict(link.field_rules)
    data = {"version": link.version, "on_delete": "unlink"}
    for field in ("title", "description", "status", "assignee", "labels"):
        data[f"direction_{field}"], data[f"rule_{field}"] = "to_pmhub", "jira"
    response = client_as(admin).post(f"/w/{workspace.slug}/jira/{connection.id}/links/{link.id}/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    link.refresh_from_db()
    assert link.field_rules["title"] == {"direction": "to_pmhub", "rule": "jira"}
    assert link.field_rules["points"] == kept["points"] and link.field_rules["epic"] == kept["epic"]
    assert (link.story_issue_type, link.epic_issue_type) == ("Issue", "Epic")  # not shown, not changed


def test_a_github_link_refuses_a_bad_repository_in_github_words(admin, workspace, fake_github, client_as):
    from tests.roadmaps.factories import ProductFactory

    connection, _, _ = sync_issues(admin, workspace, fake_github)
    other = ProductFactory(workspace=workspace, name="Web")
    before = JiraProjectLink.objects.count()
    response = client_as(admin).post(
        f"/w/{workspace.slug}/jira/{connection.id}/", {"action": "link", "product": other.id, "project_key": "ENG"}
    )
    assert response.status_code == 400 and JiraProjectLink.objects.count() == before
    assert "Jira" not in _text(response.content.decode())


def test_a_failing_github_connection_notifies_in_githubs_name(admin, workspace, fake_github):
    from integrations.jira.client import JiraError
    from integrations.jira.sync import record_failure

    connection, _, _ = sync_issues(admin, workspace, fake_github)
    record_failure(connection, JiraError("GitHub refused the token.", kind="auth", status=401))
    note = Notification.objects.filter(recipient=admin).order_by("-id").first()
    assert note.title.startswith(f"GitHub connection {connection.name} is failing") and "Jira" not in note.title


def test_a_jira_connection_still_says_jira(admin, workspace, fake_jira, client_as):
    connection, _, link = connect(admin, workspace, fake_jira)
    s = backlog.story_create(actor=admin, product=link.product, title="Export roadmap")
    assert JiraSyncLog.objects.filter(story=s, direction="out").exists()
    pages = _pages(client_as(admin), workspace, connection, link)
    connection_page, link_page = _text(pages["connection"]), _text(pages["link"])
    assert "PMHub to Jira" in connection_page and "Jira project key" in connection_page
    assert "Jira project" in connection_page
    assert "Jira wins" in link_page and "Import issues from Jira" in link_page and "JQL" in link_page
    assert 'name="story_issue_type"' in pages["link"] and 'name="direction_points"' in pages["link"]


def _settings(link, **extra) -> dict:
    data = {"version": link.version, "on_delete": "unlink"}
    for field in ("title", "description", "status", "assignee", "labels"):
        data[f"direction_{field}"], data[f"rule_{field}"] = "both", "later"
    return {**data, **extra}


def test_the_admin_edits_a_github_syncs_email_to_login_map_on_the_link_page(
    admin, editor, workspace, fake_github, client, client_as
):
    connection, _, link = sync_issues(admin, workspace, fake_github)
    url = f"/w/{workspace.slug}/jira/{connection.id}/links/{link.id}/"
    assert 'name="user_map"' in client_as(admin).get(url).content.decode()
    response = client_as(admin).post(url, _settings(link, user_map=f"{editor.email} = eddie\n\n"))
    assert response.status_code == 302
    link.refresh_from_db()
    assert link.user_map == {editor.email: "eddie"}
    assert f"{editor.email} = eddie" in client_as(admin).get(url).content.decode()  # shown as saved
    s = backlog.story_create(actor=admin, product=link.product, title="Offline mode", assignee_id=editor.id)
    assert s.id and [a["login"] for a in fake_github.issue(1)["assignees"]] == ["eddie"]  # the map is used


@pytest.mark.parametrize(
    ("user_map", "message"),
    [("pat@acme.test eddie", "Line 1: write it as e-mail = login."), ("pat@acme.test = not a login!", "GitHub logins")],
)
def test_a_bad_login_map_is_a_field_error_and_changes_nothing(
    admin, workspace, fake_github, client_as, user_map, message
):
    connection, _, link = sync_issues(admin, workspace, fake_github)
    before = (link.user_map, link.version, link.field_rules)
    url = f"/w/{workspace.slug}/jira/{connection.id}/links/{link.id}/"
    response = client_as(admin).post(url, _settings(link, user_map=user_map))
    assert response.status_code == 400 and message in response.content.decode()
    link.refresh_from_db()
    assert (link.user_map, link.version, link.field_rules) == before


def test_a_jira_link_has_no_login_map_to_edit(admin, workspace, fake_jira, client_as):
    from django.core.exceptions import ValidationError

    connection, _, link = connect(admin, workspace, fake_jira)
    page = client_as(admin).get(f"/w/{workspace.slug}/jira/{connection.id}/links/{link.id}/").content.decode()
    assert 'name="user_map"' not in page
    with pytest.raises(ValidationError) as info:
        jira_services.link_update(user=admin, link=link, data={"user_map": {"a@b.c": "x"}})
    assert "user_map" in info.value.message_dict
