"""The issue sync pages of a GitHub connection in a real Chromium, at desktop and phone widths: they
name GitHub (never Jira), offer no JQL, points field or issue types, show no raw codes, and fit the
screen (decision 1722)."""

import secrets

import pytest

from integrations.jira.models import JiraConnection, JiraProjectLink, JiraSyncLog
from pmhub.secretbox import seal
from tests.roadmaps.factories import ProductFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def github_sync(workspace, admin):
    connection = JiraConnection.objects.create(
        workspace=workspace,
        name="Acme mobile issues",
        kind="github",
        base_url="https://api.github.com",
        token_sealed=seal("github_pat_x"),
        hook_token=secrets.token_urlsafe(24),
        secret_sealed=seal("s"),
        health="ok",
        account_name="pat-pm",
        created_by=admin,
    )
    link = JiraProjectLink.objects.create(
        connection=connection,
        product=ProductFactory(workspace=workspace, name="Mobile app"),
        project_key="acme/a-rather-long-repository-name-for-phones",
        story_issue_type="Issue",
        remote_statuses=[
            {"id": "open", "name": "open", "category": "new"},
            {"id": "label:In review", "name": "In review", "category": "indeterminate"},
            {"id": "closed", "name": "closed", "category": "done"},
        ],
    )
    for direction, result, extra in (
        ("out", "ok", {}),
        (
            "in",
            "failed",
            {
                "error": "assignee: GitHub assignee stranger@users.noreply."
                "github.com has no PMHub account here (not guessed)"
            },
        ),
        ("in", "conflict", {"detail": {"conflicts": {"title": {"pmhub": "Ours", "jira": "Theirs", "winner": "jira"}}}}),
    ):
        JiraSyncLog.objects.create(
            connection=connection,
            link=link,
            direction=direction,
            result=result,
            object_label="Offline mode",
            remote_key="#1",
            fields=["title"],
            **extra,
        )
    return connection, link


@pytest.mark.parametrize("width", [1440, 390])
def test_a_github_syncs_pages_read_as_github_and_fit(
    browser, live_server, sign_in, admin, github_sync, width, screenshot_path
):
    connection, link = github_sync
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    sign_in(page, admin)
    for name, path in (
        ("connection", f"/w/acme/jira/{connection.id}/"),
        ("link", f"/w/acme/jira/{connection.id}/links/{link.id}/"),
    ):
        page.goto(live_server.url + path)
        text = page.locator("main").inner_text()
        assert "Jira" not in text and "JQL" not in text and "None" not in text, name
        for code in ("to_jira", "to_pmhub", "label:In review"):
            assert code not in text, (name, code)
        assert "GitHub" in text, name
        assert page.evaluate("document.documentElement.scrollWidth") <= width, name
        page.screenshot(path=screenshot_path(f"github-sync-{name}-{width}.png"), full_page=True)
    context.close()
