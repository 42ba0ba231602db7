"""The GitHub App pages: an admin records an App (key and secret write-only, sealed), edits it and
forgets it; bad input is a field error that saves nothing; other workspaces and non-admins are kept out."""

import pytest
from joserfc.jwk import RSAKey

from integrations.github_sync.models import GitHubApp
from tests.roadmaps.factories import ProductFactory

pytestmark = pytest.mark.django_db

SECRET = "app-webhook-secret-0123456789"


@pytest.fixture(scope="module")
def pem():
    return RSAKey.generate_key(2048).as_pem(private=True).decode()


def _record(client, workspace, product, pem, **extra):
    data = {
        "name": "PMHub for Acme",
        "app_id": "4242",
        "api_url": "https://api.github.com",
        "product": product.id,
        "private_key": pem,
        "webhook_secret": SECRET,
        **extra,
    }
    return client.post(f"/w/{workspace.slug}/github-apps/", data)


def test_an_admin_records_an_app_whose_key_and_secret_are_never_shown(admin, workspace, client_as, pem):
    product = ProductFactory(workspace=workspace, name="Mobile app")
    client = client_as(admin)
    response = _record(client, workspace, product, pem)
    app = GitHubApp.objects.get()
    assert response.status_code == 302 and response.url == f"/w/{workspace.slug}/github-apps/{app.id}/"
    assert (app.app_id, app.product_id, app.created_by_id) == (4242, product.id, admin.id)
    assert "PRIVATE KEY" not in app.private_key_sealed and SECRET not in app.webhook_secret_sealed
    for url in (f"/w/{workspace.slug}/github-apps/", response.url):
        page = client.get(url).content.decode()
        assert "PMHub for Acme" in page and "PRIVATE KEY" not in page and SECRET not in page
    page = client.get(response.url).content.decode()
    assert f"/integrations/github-app/{app.hook_token}/" in page
    sealed = app.private_key_sealed
    response = client.post(
        response.url,
        {
            "name": "Renamed",
            "api_url": app.api_url,
            "product": product.id,
            "version": app.version,
            "private_key": "",
            "webhook_secret": "",
        },
    )
    app.refresh_from_db()
    assert response.status_code == 302 and app.name == "Renamed" and app.private_key_sealed == sealed  # kept
    response = client.post(response.url, {"action": "delete"})
    assert response.status_code == 302 and not GitHubApp.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"), [("app_id", "abc"), ("private_key", "not a key"), ("webhook_secret", "short"), ("name", "")]
)
def test_bad_input_is_a_field_error_and_records_nothing(admin, workspace, client_as, pem, field, value):
    product = ProductFactory(workspace=workspace)
    response = _record(client_as(admin), workspace, product, pem, **{field: value})
    assert response.status_code == 400 and not GitHubApp.objects.exists()
    assert 'class="errorlist' in response.content.decode()


def test_other_workspaces_and_non_admins_are_kept_out(admin, editor, workspace, other_workspace, client_as, pem):
    from integrations.github_sync import services

    app = services.app_create(
        user=admin,
        workspace=workspace,
        name="App",
        app_id=7,
        private_key=pem,
        webhook_secret=SECRET,
        product=ProductFactory(workspace=workspace),
    )
    assert client_as(editor).get(f"/w/{workspace.slug}/github-apps/{app.id}/").status_code == 403
    assert client_as(editor).post(f"/w/{workspace.slug}/github-apps/{app.id}/", {"action": "delete"}).status_code == 403
    from tests.factories import MembershipFactory, UserFactory

    outsider = UserFactory(email="o@globex.test")
    MembershipFactory(user=outsider, workspace=other_workspace, role=30)
    assert client_as(outsider).get(f"/w/{other_workspace.slug}/github-apps/{app.id}/").status_code == 404
    assert (
        client_as(outsider).post(f"/w/{other_workspace.slug}/github-apps/{app.id}/", {"action": "delete"}).status_code
        == 404
    )
    assert GitHubApp.objects.filter(id=app.id).exists()
