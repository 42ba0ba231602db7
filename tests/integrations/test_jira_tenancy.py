"""Jira connections, links, the mapping table and the sync log belong to one workspace and to its
admins: outsiders get 404 on every route, members below admin 403 on every read and write, nothing
changes; a forged or replayed webhook is refused and changes nothing."""

import pytest
from django.forms.models import model_to_dict

from integrations.jira import services
from integrations.jira.models import JiraConnection, JiraDelivery, JiraIssueMap, JiraProjectLink, JiraSyncLog
from pmhub.secretbox import unseal
from tests.roadmaps.factories import ProductFactory

pytestmark = pytest.mark.django_db
URL = "https://acme-tenancy.atlassian.net"


@pytest.fixture
def world(admin, workspace):
    connection, _ = services.connection_create(user=admin, workspace=workspace, kind="cloud", name="Ours",
                                               base_url=URL, email="pm@acme.test", token="tok")
    link = services.link_create(user=admin, connection=connection, product=ProductFactory(workspace=workspace),
                                project_key="ENG")
    from backlog.models import Story

    story = Story.objects.create(product=link.product, title="Mapped", rank="m")
    mapping = JiraIssueMap.objects.create(link=link, remote_id="10001", remote_key="ENG-1", story=story)
    entry = JiraSyncLog.objects.create(connection=connection, link=link, direction="in", object_label="Mapped",
                                       result="ok")
    return connection, link, mapping, entry


def _state():
    return ([model_to_dict(c) for c in JiraConnection.objects.order_by("id")],
            [model_to_dict(x) for x in JiraProjectLink.objects.order_by("id")],
            list(JiraIssueMap.objects.values_list("id", "story_id", "unlinked_at")),
            JiraSyncLog.objects.count(), JiraDelivery.objects.count())


def _requests(world):
    connection, link, mapping, entry = world
    c, ln = f"/api/v1/jira-connections/{connection.id}/", f"/api/v1/jira-links/{link.id}/"
    return [("get", c, None), ("patch", c, {"name": "x", "version": 1}), ("put", c, {"name": "x", "version": 1}),
            ("delete", c, None), ("post", c + "test/", None), ("post", c + "retry/", {}),
            ("get", ln, None), ("patch", ln, {"jql": "x", "version": 1}), ("delete", ln, None),
            ("post", ln + "preview/", None), ("post", ln + "import/", None), ("post", ln + "push/", None),
            ("get", f"/api/v1/jira-issue-links/{mapping.id}/", None), ("get", f"/api/v1/jira-sync-log/{entry.id}/", None)]


def test_outsider_gets_404_on_every_jira_route_and_nothing_changes(api_as, outsider, world):
    before = _state()
    client = api_as(outsider)
    for method, url, body in _requests(world):
        assert getattr(client, method)(url, body, format="json").status_code == 404, (method, url)
    for listing in ("jira-connections", "jira-links", "jira-issue-links", "jira-sync-log"):
        assert client.get(f"/api/v1/{listing}/").json()["results"] == []
    assert _state() == before


@pytest.mark.parametrize("who", ["viewer", "editor"])
def test_members_below_admin_get_403_and_nothing_changes(api_as, request, who, world, workspace):
    client = api_as(request.getfixturevalue(who), workspace)
    before = _state()
    for method, url, body in _requests(world):
        assert getattr(client, method)(url, body, format="json").status_code == 403, (method, url)
    assert client.post("/api/v1/jira-connections/", {"workspace": workspace.id, "kind": "cloud", "name": "x",
                                                     "base_url": URL, "email": "a@b.c", "token": "t"},
                       format="json").status_code == 403
    assert _state() == before


def test_the_admin_reads_and_writes_and_never_sees_a_secret(api_as, admin, world, workspace,
                                                            django_capture_on_commit_callbacks):
    connection, link, mapping, entry = world
    client = api_as(admin, workspace)
    body = client.get(f"/api/v1/jira-connections/{connection.id}/").json()
    assert not {"token", "token_sealed", "secret", "secret_sealed", "hook_token"} & set(body)
    assert unseal(connection.token_sealed) not in str(body) and unseal(connection.secret_sealed) not in str(body)
    assert body["webhook_url"].endswith(f"/integrations/jira/{connection.hook_token}/")
    with django_capture_on_commit_callbacks(execute=False):
        assert client.post(f"/api/v1/jira-connections/{connection.id}/test/").status_code == 202
        created = client.post("/api/v1/jira-connections/", {"workspace": workspace.id, "kind": "dc", "name": "DC",
                                                           "base_url": "https://jira.acme.test", "token": "pat"},
                              format="json")
    assert created.status_code == 201 and created.json()["secret"]
    again = client.get(f"/api/v1/jira-connections/{created.json()['id']}/").json()
    assert "secret" not in again and "pat" not in str(again)
    patched = client.patch(f"/api/v1/jira-links/{link.id}/", {
        "version": link.version, "field_rules": {"title": {"direction": "to_jira", "rule": "pmhub"}},
        "on_delete": "delete"}, format="json")
    assert patched.status_code == 200, patched.json()
    assert patched.json()["field_rules"]["title"] == {"direction": "to_jira", "rule": "pmhub"}
    assert client.get("/api/v1/jira-issue-links/", {"link": link.id}).json()["results"][0]["remote_key"] == "ENG-1"
    assert client.get("/api/v1/jira-sync-log/").json()["results"][0]["object_label"] == "Mapped"


def test_a_connection_in_another_workspace_cannot_be_created_or_linked(api_as, admin, world, other_workspace,
                                                                      workspace):
    client = api_as(admin)
    response = client.post("/api/v1/jira-connections/", {"workspace": other_workspace.id, "kind": "cloud",
                                                         "name": "x", "base_url": URL, "email": "a@b.c",
                                                         "token": "t"}, format="json")
    assert response.status_code == 404
    foreign = ProductFactory(workspace=other_workspace)
    response = client.post("/api/v1/jira-links/", {"connection": world[0].id, "product": foreign.id,
                                                   "project_key": "XYZ"}, format="json")
    assert response.status_code == 400 and JiraProjectLink.objects.count() == 1


def test_a_private_address_is_refused_for_a_connection(admin, workspace):
    from django.core.exceptions import ValidationError

    for url in ("http://127.0.0.1:8080", "https://169.254.169.254", "https://10.0.0.5", "ftp://jira.acme.test"):
        with pytest.raises(ValidationError) as exc:
            services.connection_create(user=admin, workspace=workspace, kind="dc", name="x", base_url=url,
                                       token="t")
        assert "base_url" in exc.value.message_dict
    assert not JiraConnection.objects.exists()


@pytest.mark.parametrize("who", ["viewer", "editor"])
def test_jira_pages_are_admin_only(client_as, request, who, world):
    connection, link, _, _ = world
    client = client_as(request.getfixturevalue(who))
    before = _state()
    assert client.get("/w/acme/jira/").status_code == 403
    assert client.get(f"/w/acme/jira/{connection.id}/").status_code == 403
    assert client.post(f"/w/acme/jira/{connection.id}/", {"action": "delete"}).status_code == 403
    assert client.post(f"/w/acme/jira/{connection.id}/links/{link.id}/", {"action": "unlink"}).status_code == 403
    assert _state() == before


def test_forged_replayed_and_unknown_webhooks_change_nothing(client, world, django_capture_on_commit_callbacks):
    import hashlib
    import hmac
    import json

    connection = world[0]
    body = json.dumps({"webhookEvent": "jira:issue_updated", "issue": {"id": "10001", "key": "ENG-1",
                                                                        "fields": {"project": {"key": "ENG"}}}}).encode()
    good = "sha256=" + hmac.new(unseal(connection.secret_sealed).encode(), body, hashlib.sha256).hexdigest()
    other = "sha256=" + hmac.new(b"another secret", body, hashlib.sha256).hexdigest()
    url = f"/integrations/jira/{connection.hook_token}/"

    def post(signature, identifier="d-1", to=url):
        meta = {"HTTP_X_ATLASSIAN_WEBHOOK_IDENTIFIER": identifier}
        if signature is not None:
            meta["HTTP_X_HUB_SIGNATURE"] = signature
        return client.post(to, body, content_type="application/json", **meta)

    before = _state()
    assert post(None).status_code == 401
    assert post(other).status_code == 401
    assert post(good.replace("sha256=", "sha1=")).status_code == 401
    assert post(good, to="/integrations/jira/unknown-token/").status_code == 404
    assert post(good, identifier="").status_code == 400
    assert _state() == before  # a forger cannot even fill the log
    with django_capture_on_commit_callbacks(execute=False):
        assert post(good).json()["detail"] == "queued"
        assert post(good).json()["detail"] == "already processed"
    assert JiraDelivery.objects.count() == 1
