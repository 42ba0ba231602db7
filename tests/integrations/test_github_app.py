"""GitHub App installations (docs/decisions/1721): the App's JWT is exchanged for an installation
token (cached), `installation` / `installation_repositories` webhooks register and remove
repositories, pull requests link through the App's webhook, and the issue sync signs in as the
installation. Against the fake GitHub (checked against GitHub's REST description)."""

import json

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from joserfc.jwk import RSAKey

from backlog import services as backlog
from integrations.github import sign, story_key
from integrations.github_sync import services
from integrations.github_sync.auth import app_jwt, installation_token
from integrations.github_sync.models import GitHubApp, GitHubAppDelivery, GitHubInstallation
from integrations.jira.models import JiraConnection, JiraIssueMap
from integrations.models import PullRequestLink, Repository

from .github_helpers import REPO, post_hook
from .github_payloads import pull_request

pytestmark = pytest.mark.django_db(transaction=True)
SECRET = "app-webhook-secret-0123456789"
KEY = RSAKey.generate_key(2048)


@pytest.fixture
def product(workspace):
    from tests.roadmaps.factories import ProductFactory

    return ProductFactory(workspace=workspace, name="Mobile app")


@pytest.fixture
def app(admin, workspace, fake_github, product):
    cache.clear()
    fake_github.app(4242, KEY.as_pem(private=False))
    return services.app_create(
        user=admin,
        workspace=workspace,
        name="PMHub for Acme",
        app_id="4242",
        private_key=KEY.as_pem(private=True).decode(),
        webhook_secret=SECRET,
        product=product,
        merge_status="done",
        api_url=fake_github.url,
    )


def hook(client, app, body: bytes, headers: dict):
    return post_hook(client, f"/integrations/github-app/{app.hook_token}/", body, headers)


def install(client, app, fake_github, repos=(REPO,), installation_id=77):
    fake_github.install(installation_id, "acme", list(repos))
    body, headers = fake_github.installation_webhook("created", installation_id, secret=SECRET, repos=repos)
    return hook(client, app, body, headers)


def test_the_key_and_secret_are_sealed_and_a_bad_key_is_a_field_error(admin, workspace, app, product):
    assert b"PRIVATE KEY" not in app.private_key_sealed.encode() and SECRET not in app.webhook_secret_sealed
    with pytest.raises(ValidationError) as err:
        services.app_create(
            user=admin,
            workspace=workspace,
            name="Other",
            app_id="x",
            private_key="not a key",
            webhook_secret="short",
            product=product,
        )
    assert set(err.value.message_dict) == {"app_id", "private_key", "webhook_secret"}
    assert GitHubApp.objects.count() == 1


def test_the_jwt_is_rs256_signed_by_the_app_and_short_lived():
    from joserfc import jwt

    token = jwt.decode(
        app_jwt(app_id=4242, private_key_pem=KEY.as_pem(private=True).decode(), now=1_000_000),
        RSAKey.import_key(KEY.as_pem(private=False)),
        algorithms=["RS256"],
    )
    assert token.header["alg"] == "RS256"
    assert token.claims == {"iat": 1_000_000 - 60, "exp": 1_000_000 + 540, "iss": "4242"}


def test_an_installation_registers_its_repositories_and_its_removal_removes_them(client, app, fake_github):
    assert install(client, app, fake_github).json()["detail"].startswith("installation 77 (acme) added: 1")
    installation = GitHubInstallation.objects.get(app=app)
    repository = Repository.objects.get(installation=installation)
    assert (repository.full_name, repository.product_id, repository.merge_status) == (REPO, app.product_id, "done")
    fake_github.add_repo("acme/web")
    body, headers = fake_github.installation_webhook("added", 77, secret=SECRET, repos=["acme/web"], removed=[REPO])
    assert hook(client, app, body, headers).json() == {"detail": "repositories: 1 added, 1 removed"}
    assert list(Repository.objects.values_list("full_name", flat=True)) == ["acme/web"]
    body, headers = fake_github.installation_webhook("deleted", 77, secret=SECRET)
    assert hook(client, app, body, headers).status_code == 200
    assert not GitHubInstallation.objects.exists() and not Repository.objects.exists()


def test_a_pull_request_through_the_apps_webhook_links_and_a_merge_moves_the_story(client, admin, app, fake_github):
    install(client, app, fake_github)
    s = backlog.story_create(actor=admin, product=app.product, title="Export")
    payload = pull_request(REPO, title=f"{story_key(s.id)} export", merged=True, state="closed")
    payload["installation"] = {"id": 77, "node_id": "MDIz77"}
    body = json.dumps(payload).encode()
    headers = {
        "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": "d-1",
        "X-Hub-Signature-256": sign(secret=SECRET, body=body),
    }
    assert "1 story linked" in hook(client, app, body, headers).json()["detail"]
    assert hook(client, app, body, headers).json() == {"detail": "already processed"}
    link = PullRequestLink.objects.get(story=s)
    assert link.state == "merged" and link.repository.installation.installation_id == 77
    s.refresh_from_db()
    assert s.status == "done"


def test_a_forged_or_replayed_app_webhook_is_refused_and_changes_nothing(client, app, fake_github):
    body, headers = fake_github.installation_webhook("created", 77, secret="not-the-secret", repos=[REPO])
    assert hook(client, app, body, headers).status_code == 401
    assert post_hook(client, "/integrations/github-app/unknown/", body, headers).status_code == 404
    assert not GitHubInstallation.objects.exists() and not GitHubAppDelivery.objects.exists()
    good, good_headers = fake_github.installation_webhook("created", 77, secret=SECRET, repos=[REPO])
    assert hook(client, app, good, good_headers).status_code == 200
    Repository.objects.all().delete()
    assert hook(client, app, good, good_headers).json() == {"detail": "already processed"}  # a replay
    assert not Repository.objects.exists()


def test_the_installation_token_is_cached_until_shortly_before_it_expires_and_renewed_when_revoked(
    client, admin, app, fake_github
):
    install(client, app, fake_github)
    installation = GitHubInstallation.objects.get()
    first = installation_token(installation)
    assert installation_token(installation) == first and fake_github.token_exchanges == 1
    connection, link, _ = services.issue_sync_create(
        user=admin, workspace=app.workspace, product=app.product, repository=REPO, installation=installation
    )
    connection.refresh_from_db()
    assert connection.health == "ok" and "GitHub App installation" in connection.account_name
    fake_github.installation_tokens.clear()  # revoked on GitHub's side
    s = backlog.story_create(actor=admin, product=app.product, title="Synced as the App")
    assert JiraIssueMap.objects.get(story=s).remote_key == "#1" and fake_github.token_exchanges == 2
    assert fake_github.issue(1)["title"] == "Synced as the App"


def test_an_uninstalled_app_shows_on_its_issue_sync(client, admin, app, fake_github, eager_retries):
    install(client, app, fake_github)
    installation = GitHubInstallation.objects.get()
    connection, link, _ = services.issue_sync_create(
        user=admin, workspace=app.workspace, product=app.product, repository=REPO, installation=installation
    )
    fake_github.installations.clear()
    fake_github.installation_tokens.clear()
    backlog.story_create(actor=admin, product=app.product, title="No way through")
    connection.refresh_from_db()
    assert connection.health == JiraConnection.Health.AUTH and "uninstalled" in connection.last_error
    from pmhub.models import Notification

    told = Notification.objects.get(recipient=admin)  # an auth failure tells the admins at once
    assert told.title.startswith(f"GitHub connection {connection.name} is failing")


def test_issue_events_through_the_apps_webhook_reach_the_installations_issue_sync(client, admin, app, fake_github):
    install(client, app, fake_github)
    installation = GitHubInstallation.objects.get()
    services.issue_sync_create(
        user=admin, workspace=app.workspace, product=app.product, repository=REPO, installation=installation
    )
    s = backlog.story_create(actor=admin, product=app.product, title="Before")
    fake_github.edit(1, title="After")
    body, headers = fake_github.webhook("edited", 1, secret=SECRET, installation_id=77)
    assert hook(client, app, body, headers).json() == {"detail": "queued"}
    s.refresh_from_db()
    assert s.title == "After"


def test_the_cached_token_lives_until_five_minutes_before_github_says_it_expires(client, app, fake_github):
    from tests.services import redis_available, require

    require(redis_available(), "Redis (the cache keeps installation tokens)")
    install(client, app, fake_github)
    installation_token(GitHubInstallation.objects.get())
    key = cache.make_key(f"github:installation-token:{app.id}:77")
    assert 3000 < cache._cache.get_client(key).ttl(key) <= 3300  # an hour less five minutes
