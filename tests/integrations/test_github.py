"""GitHub pull requests linked to stories: signed deliveries processed once, keys in branch names,
titles and commit messages, merge through the one status service, forged and replayed deliveries
refused with nothing changed, one delivery over real HTTP to the live server."""

import json
import urllib.error
import urllib.request

import pytest

from backlog import services as backlog
from backlog.models import Story
from integrations import services
from integrations.github import signature_valid, story_ids_in, story_key
from integrations.models import GitHubDelivery, PullRequestLink, Repository
from pmhub.models import Activity
from pmhub.secretbox import unseal
from tests.roadmaps.factories import ProductFactory

from .github_payloads import body_of, check_suite, headers, pull_request, push

pytestmark = pytest.mark.django_db
REPO = "acme/mobile-app"


@pytest.fixture
def product(workspace):
    return ProductFactory(workspace=workspace, name="Mobile app")


@pytest.fixture
def connected(admin, product):
    repository, secret = services.repository_connect(user=admin, product=product, full_name=REPO,
                                                     merge_status="done")
    return repository, secret


def _story(admin, product, title="Export roadmap"):
    return backlog.story_create(actor=admin, product=product, title=title)


def _post(client, repository, secret, payload, event, delivery=None, signature=None):
    body = body_of(payload)
    h = headers(secret=secret, body=body, event=event, delivery=delivery)
    if signature is not None:
        h["X-Hub-Signature-256"] = signature
    return client.post(f"/integrations/github/{repository.hook_token}/", body, content_type="application/json",
                       **{"HTTP_" + k.upper().replace("-", "_"): v for k, v in h.items() if k != "Content-Type"})


# --- pure -----------------------------------------------------------------------------------------------
def test_keys_are_found_case_insensitively_as_whole_words():
    assert story_ids_in("feature/pmh-42-export", "Fix PMH-7 and PMH-42", None) == [42, 7]
    assert story_ids_in("xPMH-3", "PMH-31x", "#12", "PMH-", "SPMH-9") == []
    assert story_key(42) == "PMH-42"


def test_the_signature_is_hmac_sha256_of_the_raw_body_compared_in_constant_time():
    body = b'{"zen":"Keep it logically awesome."}'
    good = "sha256=" + __import__("hmac").new(b"s3cret", body, "sha256").hexdigest()
    assert signature_valid(secret="s3cret", body=body, header=good)
    assert not signature_valid(secret="s3cret", body=body + b" ", header=good)
    assert not signature_valid(secret="other", body=body, header=good)
    assert not signature_valid(secret="s3cret", body=body, header=None)
    assert not signature_valid(secret="s3cret", body=body, header=good.replace("sha256=", "sha1="))


# --- connect ----------------------------------------------------------------------------------------------
def test_connecting_seals_the_secret_and_shows_it_once(client_as, admin, product, workspace):
    client = client_as(admin)
    response = client.post("/w/acme/github/", {"product": product.id, "full_name": "https://github.com/acme/web/"})
    assert response.status_code == 201
    repository = Repository.objects.get()
    secret = unseal(repository.secret_sealed)
    assert repository.full_name == "acme/web" and secret in response.content.decode()
    assert secret not in repository.secret_sealed
    page = client.get(f"/w/acme/github/{repository.id}/").content.decode()
    assert secret not in page and f"/integrations/github/{repository.hook_token}/" in page


@pytest.mark.parametrize("name", ["acme", "acme/", "/x", "ac me/x", "acme/x/y"])
def test_a_bad_repository_name_is_a_field_error_and_nothing_is_saved(client_as, admin, product, name):
    response = client_as(admin).post("/w/acme/github/", {"product": product.id, "full_name": name})
    assert response.status_code == 400 and "owner/name" in response.content.decode()
    assert not Repository.objects.exists()


def test_the_merge_status_must_be_of_the_products_workflow(admin, product):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.repository_connect(user=admin, product=product, full_name=REPO, merge_status="shipped_to_mars")
    assert not Repository.objects.exists()


def test_repository_update_changes_the_merge_status_and_needs_the_version(admin, connected):
    from pmhub.errors import Conflict

    repository, _ = connected
    with pytest.raises(Conflict):
        services.repository_update(user=admin, repository=repository, data={"merge_status": ""}, version=99)
    updated = services.repository_update(user=admin, repository=repository, data={"merge_status": "in_progress",
                                                                                  "token": "github_pat_x"},
                                         version=repository.version)
    repository.refresh_from_db()
    assert repository.merge_status == "in_progress" and unseal(repository.token_sealed) == "github_pat_x"
    assert updated.version == 2


def test_disconnect_removes_the_repository_and_its_links(admin, connected, client, product):
    repository, secret = connected
    story = _story(admin, product)
    _post(client, repository, secret, pull_request(REPO, branch=f"feature/{story_key(story.id)}"), "pull_request")
    services.repository_disconnect(user=admin, repository=repository)
    assert not Repository.objects.exists() and not PullRequestLink.objects.exists()


# --- inbound ----------------------------------------------------------------------------------------------
def test_a_pull_request_naming_a_story_in_its_branch_is_linked_and_shown_on_the_story(client, client_as, admin,
                                                                                     connected, product):
    repository, secret = connected
    story = _story(admin, product)
    response = _post(client, repository, secret,
                     pull_request(REPO, branch=f"feature/pmh-{story.id}-export", title="Export as PDF"),
                     "pull_request")
    assert response.status_code == 200 and "1 story linked" in response.json()["detail"]
    link = PullRequestLink.objects.get()
    assert (link.story_id, link.number, link.state, link.url) == (
        story.id, 1347, "open", "https://github.com/acme/mobile-app/pull/1347")
    html = client_as(admin).get(f"/w/acme/products/{product.id}/backlog/stories/{story.id}/").content.decode()
    assert f"PMH-{story.id}" in html and "acme/mobile-app #1347" in html and "Open" in html
    assert GitHubDelivery.objects.get().outcome.startswith("pull request #1347 open")


def test_merging_moves_the_story_through_the_status_service_and_the_log_says_github(client, admin, connected,
                                                                                    product):
    repository, secret = connected
    story = _story(admin, product)
    version = story.version
    _post(client, repository, secret, pull_request(REPO, title=f"PMH-{story.id}: export"), "pull_request")
    _post(client, repository, secret, pull_request(REPO, action="closed", title=f"PMH-{story.id}: export",
                                                   state="closed", merged=True), "pull_request")
    story.refresh_from_db()
    assert story.status == "done" and story.done_at is not None and story.version == version + 1
    assert PullRequestLink.objects.get().state == "merged"
    assert Activity.objects.filter(verb="GitHub moved story: pull request merged", target_id=story.id).exists()
    assert Activity.objects.filter(verb="updated story").count() == 1


def test_a_closed_unmerged_pull_request_changes_no_status(client, admin, connected, product):
    repository, secret = connected
    story = _story(admin, product)
    _post(client, repository, secret, pull_request(REPO, action="closed", title=f"PMH-{story.id}", state="closed"),
          "pull_request")
    story.refresh_from_db()
    assert story.status != "done" and PullRequestLink.objects.get().state == "closed"


def test_a_replayed_delivery_is_processed_once(client, admin, connected, product):
    repository, secret = connected
    story = _story(admin, product)
    payload = pull_request(REPO, action="closed", title=f"PMH-{story.id}", state="closed", merged=True)
    first = _post(client, repository, secret, payload, "pull_request", delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958")
    story.refresh_from_db()
    version = story.version
    Story.objects.filter(id=story.id).update(status="in_progress")  # someone moved it back since
    again = _post(client, repository, secret, payload, "pull_request", delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958")
    assert first.status_code == 200 and again.status_code == 200 and again.json()["detail"] == "already processed"
    story.refresh_from_db()
    assert story.status == "in_progress" and story.version == version
    assert GitHubDelivery.objects.count() == 1 and PullRequestLink.objects.count() == 1


@pytest.mark.parametrize("signature", [None, "", "sha256=" + "0" * 64, "sha1=abc", "sha256=deadbeef"])
def test_a_forged_delivery_is_refused_and_changes_nothing(client, admin, connected, product, signature):
    repository, secret = connected
    story = _story(admin, product)
    payload = pull_request(REPO, action="closed", title=f"PMH-{story.id}", state="closed", merged=True)
    response = _post(client, repository, secret, payload, "pull_request", signature=signature or "")
    assert response.status_code == 401
    story.refresh_from_db()
    assert story.status != "done"
    assert not PullRequestLink.objects.exists() and not GitHubDelivery.objects.exists()
    repository.refresh_from_db()
    assert repository.last_delivery_at is None


def test_a_body_signed_with_another_repositorys_secret_is_refused(client, admin, connected, product):
    repository, _ = connected
    other, other_secret = services.repository_connect(user=admin, product=product, full_name="acme/other")
    story = _story(admin, product)
    response = _post(client, repository, other_secret, pull_request(REPO, title=f"PMH-{story.id}"), "pull_request")
    assert response.status_code == 401 and not PullRequestLink.objects.exists()


def test_an_unknown_hook_url_is_404(client):
    assert client.post("/integrations/github/nope/", b"{}", content_type="application/json").status_code == 404


def test_a_key_of_another_product_or_workspace_links_nothing(client, admin, connected, outsider, other_workspace,
                                                             workspace):
    repository, secret = connected
    elsewhere = _story(admin, ProductFactory(workspace=workspace))
    foreign = _story(outsider, ProductFactory(workspace=other_workspace))
    _post(client, repository, secret, pull_request(REPO, title=f"PMH-{elsewhere.id} PMH-{foreign.id}"),
          "pull_request")
    assert not PullRequestLink.objects.exists()


def test_a_delivery_for_another_repository_is_ignored(client, admin, connected, product):
    repository, secret = connected
    story = _story(admin, product)
    response = _post(client, repository, secret, pull_request("evil/fork", title=f"PMH-{story.id}"), "pull_request")
    assert response.status_code == 200 and "ignored" in response.json()["detail"]
    assert not PullRequestLink.objects.exists()


def test_a_commit_message_names_the_story_for_the_branchs_pull_request(client, admin, connected, product):
    repository, secret = connected
    story = _story(admin, product)
    _post(client, repository, secret, push(REPO, branch="fix-export", messages=("Tidy", f"Export fix, PMH-{story.id}")),
          "push")
    _post(client, repository, secret, pull_request(REPO, branch="fix-export", title="Fix export"), "pull_request")
    assert PullRequestLink.objects.get().story_id == story.id


def test_a_push_links_an_open_pull_request_of_its_branch(client, admin, connected, product):
    repository, secret = connected
    first, second = _story(admin, product, "One"), _story(admin, product, "Two")
    _post(client, repository, secret, pull_request(REPO, branch="work", title=f"PMH-{first.id}"), "pull_request")
    _post(client, repository, secret, push(REPO, branch="work", messages=(f"also PMH-{second.id}",)), "push")
    assert sorted(PullRequestLink.objects.values_list("story_id", flat=True)) == [first.id, second.id]


@pytest.mark.parametrize("body", [b"not json", b"[1,2]", b'{"a": NaN}', b"[" * 2000 + b"]" * 2000])
def test_a_signed_body_that_is_not_a_json_object_is_a_400(client, connected, body):
    from integrations.github import sign

    repository, secret = connected
    response = client.post(f"/integrations/github/{repository.hook_token}/", body, content_type="application/json",
                           HTTP_X_GITHUB_EVENT="push", HTTP_X_GITHUB_DELIVERY="d-1",
                           HTTP_X_HUB_SIGNATURE_256=sign(secret=secret, body=body))
    assert response.status_code == 400 and not GitHubDelivery.objects.exists()


def test_ping_is_answered_and_logged(client, connected):
    repository, secret = connected
    response = _post(client, repository, secret, {"zen": "Design for failure.", "hook_id": 1,
                                                  "repository": {"full_name": REPO}}, "ping")
    assert response.status_code == 200 and response.json()["detail"] == "ping: connected"


# --- real HTTP ----------------------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_a_signed_delivery_over_real_http_to_the_live_server_links_and_merges(live_server, admin, workspace):
    product = ProductFactory(workspace=workspace)
    repository, secret = services.repository_connect(user=admin, product=product, full_name=REPO,
                                                     merge_status="done")
    story = _story(admin, product)
    url = f"{live_server.url}/integrations/github/{repository.hook_token}/"

    def send(payload, event, signature_secret=secret):
        body = body_of(payload)
        request = urllib.request.Request(url, data=body, method="POST",
                                         headers=headers(secret=signature_secret, body=body, event=event))
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the test's own server
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    assert send(pull_request(REPO, title=f"PMH-{story.id}", state="closed", merged=True, action="closed"),
                "pull_request", signature_secret="forged")[0] == 401
    story.refresh_from_db()
    assert story.status != "done"
    status, answer = send(pull_request(REPO, title=f"PMH-{story.id}", state="closed", merged=True, action="closed"),
                          "pull_request")
    assert status == 200 and "merged" in answer["detail"]
    story.refresh_from_db()
    assert story.status == "done" and PullRequestLink.objects.get().state == "merged"


@pytest.mark.django_db(transaction=True)
def test_the_same_delivery_sent_twice_at_once_is_processed_once(admin, workspace):
    import threading

    from tests.services import on_postgres, require

    require(on_postgres(), "PostgreSQL (two sessions at once; SQLite serialises writers by locking the file)")

    from django.db import connection
    from django.test import Client

    product = ProductFactory(workspace=workspace)
    repository, secret = services.repository_connect(user=admin, product=product, full_name=REPO, merge_status="done")
    story = _story(admin, product)
    payload = pull_request(REPO, action="closed", title=f"PMH-{story.id}", state="closed", merged=True)
    answers, barrier = [], threading.Barrier(2)

    def send():
        try:
            barrier.wait()
            answers.append(_post(Client(), repository, secret, payload, "pull_request", delivery="same-id").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert answers == [200, 200]
    assert GitHubDelivery.objects.count() == 1 and PullRequestLink.objects.count() == 1
    assert Activity.objects.filter(verb="GitHub moved story: pull request merged").count() == 1


# --- API ------------------------------------------------------------------------------------------------------
def test_api_connect_shows_the_secret_once_and_never_again(api_as, admin, product, workspace):
    client = api_as(admin, workspace)
    response = client.post("/api/v1/github-repositories/", {"product": product.id, "full_name": REPO,
                                                            "merge_status": "done", "token": "github_pat_secret"},
                           format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    repository = Repository.objects.get()
    assert body["secret"] == unseal(repository.secret_sealed) and body["has_token"] is True
    assert body["payload_url"].endswith(f"/integrations/github/{repository.hook_token}/")
    assert "github_pat_secret" not in response.content.decode()
    for url in ("/api/v1/github-repositories/", f"/api/v1/github-repositories/{repository.id}/"):
        text = client.get(url).content.decode()
        assert body["secret"] not in text and "github_pat_secret" not in text and "sealed" not in text


def test_api_update_delete_and_delivery_log(api_as, client, admin, connected, product, workspace):
    repository, secret = connected
    api = api_as(admin, workspace)
    _post(client, repository, secret, {"zen": "x", "repository": {"full_name": REPO}}, "ping")
    assert api.patch(f"/api/v1/github-repositories/{repository.id}/", {"merge_status": ""},
                     format="json").status_code == 409
    ok = api.patch(f"/api/v1/github-repositories/{repository.id}/", {"merge_status": "", "version": 1}, format="json")
    assert ok.status_code == 200 and ok.json()["merge_status"] == ""
    log = api.get(f"/api/v1/github-repositories/{repository.id}/deliveries/").json()["results"]
    assert [row["event"] for row in log] == ["ping"]
    assert api.delete(f"/api/v1/github-repositories/{repository.id}/").status_code == 204
    assert not Repository.objects.exists()


def test_api_lists_a_storys_pull_requests_to_members_only(api_as, client, admin, viewer, outsider, connected,
                                                          product, workspace):
    repository, secret = connected
    story = _story(admin, product)
    _post(client, repository, secret, pull_request(REPO, title=f"PMH-{story.id} work"), "pull_request")
    rows = api_as(viewer, workspace).get(f"/api/v1/pull-requests/?story={story.id}").json()["results"]
    assert [(r["number"], r["state"], r["repository_name"]) for r in rows] == [(1347, "open", REPO)]
    assert api_as(outsider).get("/api/v1/pull-requests/").json()["results"] == []
    assert api_as(outsider).get(f"/api/v1/pull-requests/{rows[0]['id']}/").status_code == 404
    assert api_as(viewer, workspace).get(f"/api/v1/github-repositories/{repository.id}/").status_code == 403


def test_a_check_suite_sets_the_checks_of_its_pull_requests(client, client_as, admin, connected, product):
    repository, secret = connected
    story = _story(admin, product)
    _post(client, repository, secret, pull_request(REPO, title=f"PMH-{story.id}"), "pull_request")
    _post(client, repository, secret, check_suite(REPO, status="in_progress"), "check_suite")
    assert PullRequestLink.objects.get().checks == "pending"
    _post(client, repository, secret, check_suite(REPO, conclusion="failure"), "check_suite")
    assert PullRequestLink.objects.get().checks == "failure"
    html = client_as(admin).get(f"/w/acme/products/{product.id}/backlog/stories/{story.id}/").content.decode()
    assert "checks: Failure" in html
    _post(client, repository, secret, check_suite(REPO, numbers=(99,), conclusion="success"), "check_suite")
    assert PullRequestLink.objects.get().checks == "failure"  # another pull request's suite
