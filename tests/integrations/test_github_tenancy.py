"""GitHub Apps and GitHub issue syncs belong to one workspace and to its admins: outsiders get 404,
members below admin 403, nothing changes; the key and secrets are never returned; bad input is a
400 with field errors and nothing saved. The issue sync's connection, links, mapping and log are the
one engine's rows (tests/integrations/test_jira_tenancy.py covers their routes)."""

import pytest
from django.forms.models import model_to_dict
from joserfc.jwk import RSAKey

from integrations.github_sync import services
from integrations.github_sync.models import GitHubApp, GitHubInstallation
from integrations.jira.models import JiraConnection, JiraProjectLink
from tests.roadmaps.factories import ProductFactory

pytestmark = pytest.mark.django_db
PEM = RSAKey.generate_key(2048).as_pem(private=True).decode()
SECRET = "tenancy-secret-0123456789"


@pytest.fixture
def world(admin, workspace):
    product = ProductFactory(workspace=workspace)
    app = services.app_create(
        user=admin, workspace=workspace, name="Ours", app_id=11, private_key=PEM, webhook_secret=SECRET, product=product
    )
    installation = GitHubInstallation.objects.create(app=app, installation_id=5, account_login="acme")
    return app, installation, product


def _state():
    return (
        [model_to_dict(a) for a in GitHubApp.objects.order_by("id")],
        list(GitHubInstallation.objects.values_list("id", "app_id")),
        [model_to_dict(c) for c in JiraConnection.objects.order_by("id")],
        JiraProjectLink.objects.count(),
    )


def _requests(world, workspace):
    app, installation, product = world
    url = f"/api/v1/github-apps/{app.id}/"
    sync = {"workspace": workspace.id, "product": product.id, "repository": "acme/app", "installation": installation.id}
    return [
        ("get", url, None),
        ("patch", url, {"name": "x", "version": 1}),
        ("delete", url, None),
        ("post", "/api/v1/github-issue-syncs/", sync),
    ]


def test_outsider_gets_404_and_nothing_changes(api_as, outsider, world, workspace):
    before = _state()
    client = api_as(outsider)
    for method, url, body in _requests(world, workspace):
        assert getattr(client, method)(url, body, format="json").status_code == 404, (method, url)
    assert client.get("/api/v1/github-apps/").json()["results"] == []
    assert _state() == before


@pytest.mark.parametrize("who", ["viewer", "editor"])
def test_members_below_admin_get_403_and_nothing_changes(api_as, request, who, world, workspace):
    before = _state()
    client = api_as(request.getfixturevalue(who))
    for method, url, body in _requests(world, workspace):
        assert getattr(client, method)(url, body, format="json").status_code == 403, (method, url)
    assert _state() == before


def test_the_admin_sees_the_app_without_its_key_or_secret(api_as, admin, world):
    app, installation, _ = world
    data = api_as(admin).get(f"/api/v1/github-apps/{app.id}/").json()
    assert data["installations"][0]["installation_id"] == 5 and data["webhook_url"].endswith(
        f"/integrations/github-app/{app.hook_token}/"
    )
    text = str(data)
    assert "PRIVATE KEY" not in text and SECRET not in text and "private_key" not in data


def test_bad_input_is_a_400_with_field_errors_and_nothing_saved(api_as, admin, world, workspace):
    app, installation, product = world
    before = _state()
    client = api_as(admin)
    bad = client.post(
        "/api/v1/github-apps/",
        {
            "workspace": workspace.id,
            "name": "Second",
            "app_id": 0,
            "private_key": "nope",
            "webhook_secret": "short",
            "product": product.id,
        },
        format="json",
    )
    assert bad.status_code == 400 and {"app_id", "private_key", "webhook_secret"} <= set(bad.json()["errors"])
    bad_sync = client.post(
        "/api/v1/github-issue-syncs/",
        {"workspace": workspace.id, "product": product.id, "repository": "not a repo"},
        format="json",
    )
    assert bad_sync.status_code == 400 and {"repository", "token"} <= set(bad_sync.json()["errors"])
    assert _state() == before


def test_another_workspaces_product_or_installation_is_refused(api_as, admin, world, workspace, other_workspace):
    app, installation, product = world
    theirs = ProductFactory(workspace=other_workspace)
    client = api_as(admin)
    before = _state()
    answer = client.post(
        "/api/v1/github-issue-syncs/",
        {"workspace": workspace.id, "product": theirs.id, "repository": "acme/app", "token": "t"},
        format="json",
    )
    assert answer.status_code in (400, 404)
    assert _state() == before


def test_the_admin_starts_an_issue_sync_and_sees_the_secret_once(api_as, admin, world, workspace):
    app, installation, product = world
    client = api_as(admin)
    created = client.post(
        "/api/v1/github-issue-syncs/",
        {
            "workspace": workspace.id,
            "product": product.id,
            "repository": "https://github.com/acme/app",
            "installation": installation.id,
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    data = created.json()
    assert data["kind"] == "github" and data["secret"] and "/integrations/github-issues/" in data["webhook_url"]
    link = JiraProjectLink.objects.get(id=data["link"])
    assert link.project_key == "acme/app" and link.connection.github_auth.installation == installation
    again = client.get(f"/api/v1/jira-connections/{data['id']}/").json()
    assert "secret" not in again and again["webhook_url"] == data["webhook_url"]


@pytest.mark.parametrize("apps", [1, 6])
def test_the_app_list_costs_the_same_queries_at_two_sizes(api_as, admin, workspace, django_assert_max_num_queries,
                                                         apps):
    product = ProductFactory(workspace=workspace)
    for n in range(apps):
        app = GitHubApp.objects.create(workspace=workspace, name=f"App {n}", app_id=100 + n, private_key_sealed="x",
                                       webhook_secret_sealed="x", hook_token=f"tok-{n}", product=product)
        for i in range(3):
            GitHubInstallation.objects.create(app=app, installation_id=i + 1, account_login=f"org{i}")
    client = api_as(admin)
    with django_assert_max_num_queries(7):
        answer = client.get("/api/v1/github-apps/")
    assert answer.status_code == 200 and len(answer.json()["results"]) == apps
