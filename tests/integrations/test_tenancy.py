"""Channels belong to one workspace and to its admins: outsiders get 404 on every route, members
below admin 403 on every write (and on reads: the delivery log is admin-only), nothing changes."""

import pytest

from integrations import services
from integrations.models import Channel
from reports.models import WebhookDelivery

pytestmark = pytest.mark.django_db
HOOK = "https://hooks.slack.com/services/T1/B1/tenancy"


@pytest.fixture
def channel(admin, workspace):
    return services.channel_create(user=admin, workspace=workspace, kind="slack", name="#ours", url=HOOK,
                                   events=["story.created"])


def _state(channel):
    row = Channel.objects.select_related("endpoint").get(pk=channel.pk)
    return (row.name, row.url_sealed, row.version, row.endpoint.active, list(row.endpoint.events),
            WebhookDelivery.objects.count())


def _requests(channel, workspace):
    base = f"/api/v1/channels/{channel.id}/"
    return [("get", base, None), ("get", base + "deliveries/", None), ("patch", base, {"name": "x", "version": 1}),
            ("put", base, {"name": "x", "version": 1}), ("delete", base, None), ("post", base + "send-test/", None)]


def test_outsider_gets_404_on_every_channel_route_and_nothing_changes(api_as, outsider, channel, workspace):
    before = _state(channel)
    client = api_as(outsider)
    for method, url, body in _requests(channel, workspace):
        assert getattr(client, method)(url, body, format="json").status_code == 404, (method, url)
    assert client.get("/api/v1/channels/").json()["results"] == []
    assert _state(channel) == before


@pytest.mark.parametrize("who", ["viewer", "editor"])
def test_members_below_admin_get_403_and_nothing_changes(api_as, request, who, channel, workspace):
    user = request.getfixturevalue(who)
    before = _state(channel)
    client = api_as(user, workspace)
    for method, url, body in _requests(channel, workspace):
        assert getattr(client, method)(url, body, format="json").status_code == 403, (method, url)
    assert client.get("/api/v1/channels/").status_code == 403
    assert client.post("/api/v1/channels/", {"workspace": workspace.id, "kind": "slack", "name": "#x", "url": HOOK,
                                             "events": ["story.created"]}, format="json").status_code == 403
    assert _state(channel) == before and Channel.objects.count() == 1


def test_the_admin_twin_of_each_refused_request_is_accepted(api_as, admin, channel, workspace,
                                                           django_capture_on_commit_callbacks, settings):
    client = api_as(admin, workspace)
    base = f"/api/v1/channels/{channel.id}/"
    assert client.get(base).status_code == 200
    assert client.get(base + "deliveries/").status_code == 200
    with django_capture_on_commit_callbacks(execute=False):
        assert client.post(base + "send-test/").status_code == 202
    assert client.patch(base, {"name": "#renamed", "version": channel.version}, format="json").status_code == 200
    assert client.delete(base).status_code == 204


def test_a_channel_of_another_workspace_cannot_be_created_through_the_api(api_as, admin, other_workspace):
    response = api_as(admin).post("/api/v1/channels/", {"workspace": other_workspace.id, "kind": "slack",
                                                        "name": "#x", "url": HOOK, "events": ["story.created"]},
                                  format="json")
    assert response.status_code == 404 and not Channel.objects.exists()


def test_a_product_of_another_workspace_is_refused(api_as, admin, workspace, other_workspace):
    from tests.roadmaps.factories import ProductFactory

    foreign = ProductFactory(workspace=other_workspace)
    response = api_as(admin).post("/api/v1/channels/", {"workspace": workspace.id, "kind": "slack", "name": "#x",
                                                        "url": HOOK, "events": ["story.created"],
                                                        "product": foreign.id}, format="json")
    assert response.status_code == 400 and not Channel.objects.exists()


@pytest.mark.parametrize("who", ["viewer", "editor"])
def test_pages_are_admin_only(client_as, request, who, channel):
    client = client_as(request.getfixturevalue(who))
    assert client.get("/w/acme/channels/").status_code == 403
    assert client.get(f"/w/acme/channels/{channel.id}/").status_code == 403
    assert client.post(f"/w/acme/channels/{channel.id}/", {"action": "delete"}).status_code == 403
    assert Channel.objects.filter(pk=channel.pk).exists()


def test_outsider_pages_are_404(client_as, outsider, channel):
    client = client_as(outsider)
    assert client.get("/w/acme/channels/").status_code == 404
    assert client.post(f"/w/acme/channels/{channel.id}/", {"action": "delete"}).status_code == 404
    assert Channel.objects.filter(pk=channel.pk).exists()


@pytest.fixture
def repository(admin, workspace):
    from tests.roadmaps.factories import ProductFactory

    repository, _ = services.repository_connect(user=admin, product=ProductFactory(workspace=workspace),
                                                full_name="acme/web")
    return repository


@pytest.mark.parametrize("who", ["viewer", "editor"])
def test_repository_pages_are_admin_only_and_refused_writes_change_nothing(client_as, request, who, repository):
    from integrations.models import Repository

    client = client_as(request.getfixturevalue(who))
    assert client.get("/w/acme/github/").status_code == 403
    assert client.get(f"/w/acme/github/{repository.id}/").status_code == 403
    assert client.post(f"/w/acme/github/{repository.id}/", {"action": "disconnect"}).status_code == 403
    assert client.post("/w/acme/github/", {"product": repository.product_id, "full_name": "acme/x"}).status_code == 403
    assert list(Repository.objects.values_list("full_name", flat=True)) == ["acme/web"]


def test_outsiders_get_404_on_repository_pages(client_as, outsider, repository):
    from integrations.models import Repository

    client = client_as(outsider)
    assert client.get(f"/w/acme/github/{repository.id}/").status_code == 404
    assert client.post(f"/w/acme/github/{repository.id}/", {"action": "disconnect"}).status_code == 404
    assert Repository.objects.filter(pk=repository.pk).exists()


def test_a_product_of_another_workspace_cannot_be_connected(client_as, admin, other_workspace):
    from integrations.models import Repository
    from tests.roadmaps.factories import ProductFactory

    foreign = ProductFactory(workspace=other_workspace)
    response = client_as(admin).post("/w/acme/github/", {"product": foreign.id, "full_name": "acme/x"})
    assert response.status_code == 400 and not Repository.objects.exists()


def test_pull_requests_on_a_story_are_seen_only_by_its_workspace(client_as, admin, outsider, repository):
    from backlog import services as backlog
    from integrations.models import PullRequestLink

    story = backlog.story_create(actor=admin, product=repository.product, title="Ours")
    PullRequestLink.objects.create(repository=repository, story=story, number=9, title="Secret work",
                                   url="https://github.com/acme/web/pull/9")
    url = f"/w/acme/products/{repository.product_id}/backlog/stories/{story.id}/"
    assert "Secret work" in client_as(admin).get(url).content.decode()
    assert client_as(outsider).get(url).status_code == 404


@pytest.mark.parametrize("who", ["viewer", "editor"])
def test_repository_api_writes_below_admin_are_403_and_change_nothing(api_as, request, who, repository, workspace):
    from integrations.models import Repository

    client = api_as(request.getfixturevalue(who), workspace)
    base = f"/api/v1/github-repositories/{repository.id}/"
    assert client.get(base + "deliveries/").status_code == 403
    assert client.patch(base, {"merge_status": "", "version": 1}, format="json").status_code == 403
    assert client.delete(base).status_code == 403
    assert client.post("/api/v1/github-repositories/", {"product": repository.product_id, "full_name": "a/b"},
                       format="json").status_code == 403
    assert list(Repository.objects.values_list("full_name", "version")) == [("acme/web", 1)]


def test_repository_api_is_404_for_outsiders(api_as, outsider, repository):
    client = api_as(outsider)
    base = f"/api/v1/github-repositories/{repository.id}/"
    for method in ("get", "patch", "delete"):
        assert getattr(client, method)(base, {"version": 1}, format="json").status_code == 404
    assert client.get(base + "deliveries/").status_code == 404
    assert client.post("/api/v1/github-repositories/", {"product": repository.product_id, "full_name": "a/b"},
                       format="json").status_code == 404
