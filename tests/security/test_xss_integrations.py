"""Every payload of xss_corpus.py as a story title, a product name and a channel name: the Slack
message (received over a socket) carries no live mrkdwn (`<`, `>`, `&` only as entities, so no
link, mention or `<!channel>` of the payload's), the Teams card no Markdown link or formatting of
the payload's, and the channel pages are inert."""

import re

import pytest
from django.urls import reverse

from backlog import services as backlog
from integrations import services
from roadmaps.models import Product
from tests.integrations.receiver import ChatReceiver

from .xss_cases import CASES, browser, get_inert, payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def chat(settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    r = ChatReceiver()
    yield r
    r.close()


def _slack_text_is_inert(text: str, url_prefix: str) -> None:
    # Our own link is the only `<...>` allowed: `<{our url}|label>`; the label has no raw <, > or &.
    own = re.fullmatch(r"\*<(" + re.escape(url_prefix) + r"[^|<>]*)\|([^<>]*)>\*", text)
    rest = own.group(2) if own else text
    assert "<" not in rest and ">" not in rest, text
    assert not re.search(r"&(?!amp;|lt;|gt;)", rest), text


def _teams_text_is_inert(text: str) -> None:
    # Every Markdown link/format character of the payload is escaped with a backslash.
    assert not re.search(r"(?<!\\)[\[\]()*_`]", text), text


@pytest.mark.parametrize("case", CASES)
def test_payloads_are_inert_in_slack_and_teams_messages_and_channel_pages(case, chat, admin, workspace, settings,
                                                                          django_capture_on_commit_callbacks):
    product = Product.objects.create(workspace=workspace, name=payload(case, 0, 120))
    slack = services.channel_create(user=admin, workspace=workspace, kind="slack", name=payload(case, 1, 120),
                                    url=chat.url("/slack"), events=["story.created"])
    services.channel_create(user=admin, workspace=workspace, kind="teams", name=payload(case, 2, 120),
                            url=chat.url("/teams"), events=["story.created"])
    title = payload(case, 3, 200)
    with django_capture_on_commit_callbacks(execute=True):
        backlog.story_create(actor=admin, product=product, title=title)
    by_path = {m["path"]: m["body"] for m in chat.received}
    blocks = by_path["/slack"]["blocks"]
    _slack_text_is_inert(blocks[1]["text"]["text"], settings.SITE_URL + "/")
    for element in blocks[3]["elements"]:  # context: product and workspace names
        _slack_text_is_inert(element["text"], settings.SITE_URL + "/")
    assert blocks[0]["text"]["type"] == "plain_text"  # headers are never parsed
    card = by_path["/teams"]["attachments"][0]["content"]
    for block in card["body"]:
        for text in ([block["text"]] if "text" in block else
                     [v for f in block.get("facts", []) for v in f.values()]):
            _teams_text_is_inert(text)
    client = browser(admin)
    get_inert(client, reverse("integrations:channels", kwargs={"ws": workspace.slug}))
    get_inert(client, reverse("integrations:channel", kwargs={"ws": workspace.slug, "channel_id": slack.id}))


@pytest.mark.parametrize("case", CASES)
def test_payloads_from_github_are_inert_on_the_story_and_repository_pages(case, client, admin, workspace):
    from integrations.models import Repository
    from tests.integrations.github_payloads import body_of, headers, pull_request

    product = Product.objects.create(workspace=workspace, name="P")
    repository, secret = services.repository_connect(user=admin, product=product, full_name="acme/web")
    story = backlog.story_create(actor=admin, product=product, title="Target")
    payload_ = pull_request("acme/web", title=f"PMH-{story.id} {payload(case, 0, 250)}",
                            branch=payload(case, 1, 200))
    body = body_of(payload_)
    h = headers(secret=secret, body=body, event="pull_request")
    response = client.post(f"/integrations/github/{repository.hook_token}/", body, content_type="application/json",
                           **{"HTTP_" + k.upper().replace("-", "_"): v for k, v in h.items() if k != "Content-Type"})
    assert response.status_code == 200
    signed_in = browser(admin)
    get_inert(signed_in, reverse("backlog:story", kwargs={"ws": workspace.slug, "product_id": product.id,
                                                          "story_id": story.id}))
    get_inert(signed_in, reverse("integrations:repository", kwargs={
        "ws": workspace.slug, "repository_id": Repository.objects.get().id}))


@pytest.mark.parametrize("kind", ["cloud", "github"])
@pytest.mark.parametrize("case", CASES)
def test_payloads_from_jira_and_in_jira_names_are_inert_on_the_jira_pages(case, kind, admin, workspace):
    """Jira (or GitHub: the same pages, decision 1722) is a second author: summaries, error texts and
    conflict values come from its users; a GitHub link's e-mail -> login map is shown in a textarea."""
    import secrets

    from backlog.models import Story
    from integrations.jira.models import JiraConnection, JiraIssueMap, JiraProjectLink, JiraSyncLog
    from pmhub.secretbox import seal

    product = Product.objects.create(workspace=workspace, name=payload(case, 0, 120))
    connection = JiraConnection.objects.create(
        workspace=workspace, name=payload(case, 1, 120), base_url="https://acme.atlassian.net", email="a@b.c", kind=kind,
        token_sealed=seal("t"), hook_token=secrets.token_urlsafe(8), secret_sealed=seal("s"),
        health="failing", last_error=payload(case, 2, 300), account_name=payload(case, 3, 200))
    link = JiraProjectLink.objects.create(
        connection=connection, product=product, project_key="ENG" if kind == "cloud" else "acme/app",
        user_map={payload(case, 12, 200): "pat-pm"} if kind == "github" else {},
        remote_statuses=[{"id": "1", "name": payload(case, 4, 60), "category": "new"}],
        preview={"state": "ready", "jql": "", "counts": {"create": 1, "link": 0, "skip": 0},
                 "rows": [{"key": "ENG-1", "summary": payload(case, 5, 200), "action": "create", "reason": ""}]})
    story = Story.objects.create(product=product, title=payload(case, 6, 200), rank="m")
    JiraIssueMap.objects.create(link=link, remote_id="1", remote_key="ENG-1", story=story)
    JiraSyncLog.objects.create(connection=connection, link=link, direction="in", story=story,
                               object_label=payload(case, 7, 200), remote_key="ENG-1", fields=["title"],
                               result="conflict", error=payload(case, 8, 300),
                               detail={"conflicts": {"title": {"pmhub": payload(case, 9, 200),
                                                               "jira": payload(case, 10, 200), "winner": "jira"}},
                                       "note": payload(case, 11, 200)})
    client = browser(admin)
    get_inert(client, reverse("integrations:jira_connections", kwargs={"ws": workspace.slug}))
    get_inert(client, reverse("integrations:jira_connection", kwargs={"ws": workspace.slug,
                                                                      "connection_id": connection.id}))
    get_inert(client, reverse("integrations:jira_link", kwargs={"ws": workspace.slug, "connection_id": connection.id,
                                                                "link_id": link.id}))


@pytest.mark.parametrize("case", CASES)
def test_payloads_in_a_github_apps_names_are_inert_on_its_pages(case, admin, workspace):
    import secrets

    from integrations.github_sync.models import GitHubApp, GitHubInstallation
    from pmhub.secretbox import seal

    product = Product.objects.create(workspace=workspace, name=payload(case, 0, 120))
    app = GitHubApp.objects.create(
        workspace=workspace, name=payload(case, 1, 120), app_id=77, api_url=payload(case, 2, 300), product=product,
        private_key_sealed=seal("k"), webhook_secret_sealed=seal("s"), hook_token=secrets.token_urlsafe(8))
    GitHubInstallation.objects.create(app=app, installation_id=5, account_login=payload(case, 3, 100))
    client = browser(admin)
    get_inert(client, reverse("integrations:github_apps", kwargs={"ws": workspace.slug}))
    get_inert(client, reverse("integrations:github_app", kwargs={"ws": workspace.slug, "app_id": app.id}))
