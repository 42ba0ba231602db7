"""Slack and Teams channels: sealed URLs, messages received over a real socket, product scope,
retries with Retry-After, the shared delivery log, test messages, pages and API."""

import json

import pytest
from django.db import connection

from backlog import services as backlog
from integrations import services
from integrations.models import Channel
from pmhub.models import Activity, Notification
from pmhub.secretbox import SecretUnreadable, seal, unseal
from reports.models import WebhookDelivery, WebhookEndpoint
from reports.tasks import webhook_deliver
from tests.roadmaps.factories import ProductFactory

pytestmark = pytest.mark.django_db
HOOK = "https://hooks.slack.com/services/T0001/B0001/abcdefghijklmnop"


def _channel(admin, workspace, url, kind="slack", events=("story.created",), product=None, name="#product"):
    return services.channel_create(user=admin, workspace=workspace, kind=kind, name=name, url=url,
                                   events=list(events), product=product)


def test_the_url_is_sealed_at_rest_and_opens_again(admin, workspace):
    channel = _channel(admin, workspace, HOOK)
    with connection.cursor() as cursor:
        cursor.execute("SELECT url_sealed, url_hint FROM integrations_channel WHERE id = %s", [channel.id])
        sealed, hint = cursor.fetchone()
    assert "hooks.slack.com" not in sealed and "abcdefghijklmnop" not in sealed
    assert unseal(sealed) == HOOK
    assert hint == "https://hooks.slack.com/…mnop"
    assert channel.endpoint.kind == "slack" and channel.endpoint.url == ""


def test_a_token_sealed_with_another_key_is_unreadable(settings):
    token = seal("secret")
    settings.ENCRYPTION_KEYS = ["A" * 43 + "="]
    with pytest.raises(SecretUnreadable):
        unseal(token)


def test_rotated_keys_still_open_old_tokens(settings):
    from cryptography.fernet import Fernet

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.ENCRYPTION_KEYS = [old]
    token = seal("secret")
    settings.ENCRYPTION_KEYS = [new, old]
    assert unseal(token) == "secret"


def test_story_created_posts_block_kit_with_a_link_to_the_story(chat, admin, workspace,
                                                                 django_capture_on_commit_callbacks):
    product = ProductFactory(workspace=workspace, name="Mobile app")
    _channel(admin, workspace, chat.url())
    with django_capture_on_commit_callbacks(execute=True):
        story = backlog.story_create(actor=admin, product=product, title="Export <b>roadmap</b> & PDF", points=5)
    [message] = chat.received
    assert message["path"] == "/services/T000/B000/XXXX"
    assert message["content_type"] == "application/json; charset=utf-8"
    blocks = message["body"]["blocks"]
    url = f"http://127.0.0.1:8000/w/acme/products/{product.id}/backlog/stories/{story.id}/"
    assert blocks[0]["text"]["text"] == "Story created"
    assert blocks[1]["text"]["text"] == f"*<{url}|Export &lt;b&gt;roadmap&lt;/b&gt; &amp; PDF>*"
    fields = [f["text"] for f in blocks[2]["fields"]]
    assert fields[1] == "*Estimate*\n5 points"
    assert not any("_" in f.split("\n")[1] for f in fields)  # "To do", not "to_do": no raw codes
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "success" and delivery.response_status == 200 and delivery.event == "story.created"


def test_teams_channel_gets_an_adaptive_card(chat, admin, workspace, django_capture_on_commit_callbacks, settings):
    product = ProductFactory(workspace=workspace)
    _channel(admin, workspace, chat.url("/workflows/abc"), kind="teams")
    with django_capture_on_commit_callbacks(execute=True):
        backlog.story_create(actor=admin, product=product, title="[win](https://evil.example)")
    [message] = chat.received
    card = message["body"]["attachments"][0]["content"]
    assert card["type"] == "AdaptiveCard"
    assert card["body"][1]["text"] == r"\[win\]\(https://evil\.example\)"
    assert card["actions"][0]["url"].startswith(settings.SITE_URL + "/w/acme/products/")


def test_a_product_channel_hears_only_its_product(chat, admin, workspace, django_capture_on_commit_callbacks):
    mine, other = ProductFactory(workspace=workspace), ProductFactory(workspace=workspace)
    _channel(admin, workspace, chat.url(), product=mine)
    with django_capture_on_commit_callbacks(execute=True):
        backlog.story_create(actor=admin, product=other, title="Not for us")
        backlog.story_create(actor=admin, product=mine, title="For us")
    assert [m["body"]["text"] for m in chat.received] == ["Story created: For us"]


def test_other_workspaces_paused_channels_and_other_events_get_nothing(chat, admin, workspace, outsider,
                                                                       other_workspace,
                                                                       django_capture_on_commit_callbacks):
    product = ProductFactory(workspace=workspace)
    _channel(outsider, other_workspace, chat.url())
    paused = _channel(admin, workspace, chat.url(), name="paused")
    services.channel_update(user=admin, channel=paused, data={"active": False}, version=paused.version)
    _channel(admin, workspace, chat.url(), events=["epic.created"], name="epics only")
    with django_capture_on_commit_callbacks(execute=True):
        backlog.story_create(actor=admin, product=product, title="Quiet")
    assert chat.received == []
    assert not WebhookDelivery.objects.exists()


def test_json_webhooks_do_not_receive_channel_traffic_and_channels_not_webhooks(chat, admin, workspace,
                                                                                django_capture_on_commit_callbacks):
    from reports.services import webhook_endpoint_create

    product = ProductFactory(workspace=workspace)
    webhook = webhook_endpoint_create(user=admin, workspace=workspace, url=chat.url("/json"), events=["story.created"])
    channel = _channel(admin, workspace, chat.url())
    with django_capture_on_commit_callbacks(execute=True):
        backlog.story_create(actor=admin, product=product, title="Once each")
    assert sorted(m["path"] for m in chat.received) == ["/json", "/services/T000/B000/XXXX"]
    assert webhook.deliveries.count() == 1 and channel.endpoint.deliveries.count() == 1


def test_429_retry_after_is_honoured_then_delivered(chat, admin, workspace, eager_retries, monkeypatch,
                                                    django_capture_on_commit_callbacks):
    """Eager retries run at once; the countdown the task asked for is recorded by the retry schedule."""
    from reports import services as reports_services

    asked = []
    real = reports_services.webhook_retry_schedule
    monkeypatch.setattr(reports_services, "webhook_retry_schedule",
                        lambda *, delivery_id, countdown: (asked.append(countdown), real(delivery_id=delivery_id,
                                                                                          countdown=countdown)))
    chat.script = [(429, {"Retry-After": "120"}), (503, {})]
    product = ProductFactory(workspace=workspace)
    _channel(admin, workspace, chat.url())
    with django_capture_on_commit_callbacks(execute=True):
        backlog.story_create(actor=admin, product=product, title="Busy")
    assert len(chat.received) == 3
    assert asked[0] >= 120 and asked[1] <= 20  # the 429 said when; the 503 gets the usual backoff
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "success" and delivery.attempts == 3


def test_a_channel_failing_ten_deliveries_in_a_row_is_paused_and_admins_notified(
        chat, admin, workspace, eager_retries, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(webhook_deliver, "max_retries", 0)
    chat.script = [(500, {})] * 10
    product = ProductFactory(workspace=workspace)
    channel = _channel(admin, workspace, chat.url())
    for i in range(10):
        with django_capture_on_commit_callbacks(execute=True):
            backlog.story_create(actor=admin, product=product, title=f"S{i}")
    channel.endpoint.refresh_from_db()
    assert channel.endpoint.active is False and channel.endpoint.consecutive_failures == 10
    note = Notification.objects.get(recipient=admin, kind="webhook_disabled")
    assert note.title == "Slack channel #product disabled after 10 failed deliveries"
    assert note.url == f"/w/acme/channels/{channel.id}/"


def test_send_test_message_goes_through_the_log(chat, admin, workspace, django_capture_on_commit_callbacks):
    channel = _channel(admin, workspace, chat.url())
    with django_capture_on_commit_callbacks(execute=True):
        services.channel_test_send(user=admin, channel=channel)
    [message] = chat.received
    assert message["body"]["blocks"][0]["text"]["text"] == "Test message"
    assert WebhookDelivery.objects.get().event == "channel.test"
    assert Activity.objects.filter(verb="sent a test message").exists()


def test_a_paused_channel_refuses_a_test_message_and_the_page_says_so(admin, workspace, client_as):
    from django.core.exceptions import ValidationError

    channel = _channel(admin, workspace, HOOK)
    services.channel_update(user=admin, channel=channel, data={"active": False}, version=channel.version)
    with pytest.raises(ValidationError):
        services.channel_test_send(user=admin, channel=channel)
    html = client_as(admin).get(f"/w/acme/channels/{channel.id}/").content.decode()
    assert 'value="test"' not in html and 'value="resume"' in html
    assert not WebhookDelivery.objects.exists()


def test_health_shows_the_last_success_and_failures_in_a_row(chat, admin, workspace, client_as, eager_retries,
                                                            monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(webhook_deliver, "max_retries", 0)
    channel = _channel(admin, workspace, chat.url())
    client = client_as(admin)
    assert "Last delivered: never" in client.get(f"/w/acme/channels/{channel.id}/").content.decode()
    chat.script = [(200, {}), (500, {}), (500, {})]
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            services.channel_test_send(user=admin, channel=channel)
    html = client.get(f"/w/acme/channels/{channel.id}/").content.decode()
    assert "Last delivered: never" not in html and "2 failed deliveries in a row" in html
    listing = client.get("/w/acme/channels/").content.decode()
    assert "Never" not in listing


def test_a_published_progress_report_is_posted_with_a_link_to_the_run(chat, admin, workspace,
                                                                      django_capture_on_commit_callbacks):
    from reports.services import report_send_now
    from tests.reports.factories import SubscriptionFactory

    subscription = SubscriptionFactory(workspace=workspace, name="Weekly update", owner=admin)
    _channel(admin, workspace, chat.url(), events=["report.published"])
    with django_capture_on_commit_callbacks(execute=True):
        run = report_send_now(user=admin, subscription=subscription)
    [message] = chat.received
    blocks = message["body"]["blocks"]
    assert blocks[0]["text"]["text"] == "Progress report published"
    assert f"/w/acme/reports/runs/{run.id}/|Weekly update>" in blocks[1]["text"]["text"]
    assert blocks[2]["fields"][0]["text"].startswith("*Period*\n")


@pytest.mark.parametrize("url, error", [
    ("http://hooks.slack.com/services/x", "incoming-webhook URL"),
    ("https://example.com/services/x", "not a Slack incoming-webhook URL"),
    ("https://hooks.slack.com.evil.example/x", "not a Slack incoming-webhook URL"),
    ("ftp://hooks.slack.com/x", "incoming-webhook URL"),
    ("", "incoming-webhook URL"),
])
def test_urls_that_are_not_the_providers_are_refused_and_nothing_is_saved(admin, workspace, url, error):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        _channel(admin, workspace, url)
    assert error in exc.value.message_dict["url"][0]
    assert not Channel.objects.exists() and not WebhookEndpoint.objects.exists()


def test_a_loopback_url_is_refused_without_the_allowlist(admin, workspace):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        _channel(admin, workspace, "http://127.0.0.1:9/hook")
    assert not Channel.objects.exists()


def test_editors_cannot_add_channels(editor, workspace):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        _channel(editor, workspace, HOOK)
    assert not Channel.objects.exists()


# --- API --------------------------------------------------------------------------------------------
def test_api_create_returns_no_url_and_lists_it_masked(api_as, admin, workspace):
    client = api_as(admin, workspace)
    response = client.post("/api/v1/channels/", {"workspace": workspace.id, "kind": "slack", "name": "#pm",
                                                 "url": HOOK, "events": ["story.created"]}, format="json")
    assert response.status_code == 201, response.content
    body = response.content.decode()
    assert "abcdefghijklmnop" not in body and "url_sealed" not in body
    assert response.json()["url_hint"] == "https://hooks.slack.com/…mnop"
    listed = client.get("/api/v1/channels/").content.decode()
    assert "abcdefghijklmnop" not in listed and "#pm" in listed


def test_api_update_needs_the_version_and_keeps_the_url_when_none_is_sent(api_as, admin, workspace):
    channel = _channel(admin, workspace, HOOK)
    client = api_as(admin, workspace)
    stale = client.patch(f"/api/v1/channels/{channel.id}/", {"name": "#renamed"}, format="json")
    assert stale.status_code == 409
    ok = client.patch(f"/api/v1/channels/{channel.id}/", {"name": "#renamed", "version": channel.version},
                      format="json")
    assert ok.status_code == 200, ok.content
    channel.refresh_from_db()
    assert channel.name == "#renamed" and unseal(channel.url_sealed) == HOOK


def test_api_bad_input_is_a_400_with_field_errors_and_nothing_changes(api_as, admin, workspace):
    response = api_as(admin, workspace).post("/api/v1/channels/", {
        "workspace": workspace.id, "kind": "slack", "name": "#x", "url": "https://evil.example/h",
        "events": ["story.created"]}, format="json")
    assert response.status_code == 400 and "url" in json.dumps(response.json())
    assert not Channel.objects.exists()


def test_api_send_test_and_deliveries(chat, api_as, admin, workspace, django_capture_on_commit_callbacks):
    channel = _channel(admin, workspace, chat.url())
    client = api_as(admin, workspace)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/api/v1/channels/{channel.id}/send-test/").status_code == 202
    log = client.get(f"/api/v1/channels/{channel.id}/deliveries/").json()
    rows = log["results"] if isinstance(log, dict) else log
    assert rows[0]["event"] == "channel.test" and rows[0]["status"] == "success"
    assert len(chat.received) == 1


def test_channels_are_not_webhook_endpoints_in_the_webhooks_api(api_as, admin, workspace):
    channel = _channel(admin, workspace, HOOK)
    client = api_as(admin, workspace)
    assert client.get(f"/api/v1/webhook-endpoints/{channel.endpoint_id}/").status_code == 404
    assert client.get("/api/v1/webhook-endpoints/").json()["results"] == []


# --- pages ------------------------------------------------------------------------------------------
def test_page_adds_a_channel_and_never_shows_the_url(client_as, admin, workspace):
    client = client_as(admin)
    response = client.post("/w/acme/channels/", {"kind": "slack", "name": "#product-updates", "url": HOOK,
                                                  "events": ["story.created", "story.updated"]})
    channel = Channel.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/w/acme/channels/{channel.id}/"
    for path in ("/w/acme/channels/", f"/w/acme/channels/{channel.id}/"):
        html = client.get(path).content.decode()
        assert "abcdefghijklmnop" not in html and "hooks.slack.com/…mnop" in html


def test_page_keeps_what_was_typed_on_an_error(client_as, admin, workspace):
    response = client_as(admin).post("/w/acme/channels/", {"kind": "slack", "name": "#typed here",
                                                           "url": "https://evil.example/x", "events": ["story.created"]})
    html = response.content.decode()
    assert response.status_code == 400 and 'value="#typed here"' in html and "not a Slack" in html
    assert "evil.example" not in html  # a URL field is a secret: not echoed back either
    assert not Channel.objects.exists()


def test_page_test_button_and_delivery_log(chat, client_as, admin, workspace, django_capture_on_commit_callbacks):
    channel = _channel(admin, workspace, chat.url())
    client = client_as(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/w/acme/channels/{channel.id}/", {"action": "test"})
    assert response.status_code == 302
    html = client.get(f"/w/acme/channels/{channel.id}/").content.decode()
    assert 'data-testid="delivery-row"' in html and "channel.test" in html and "Delivered" in html


def test_page_pause_needs_the_version(client_as, admin, workspace):
    channel = _channel(admin, workspace, HOOK)
    client = client_as(admin)
    client.post(f"/w/acme/channels/{channel.id}/", {"action": "pause", "version": 99})
    channel.endpoint.refresh_from_db()
    assert channel.endpoint.active is True
    client.post(f"/w/acme/channels/{channel.id}/", {"action": "pause", "version": channel.version})
    channel.endpoint.refresh_from_db()
    assert channel.endpoint.active is False


def test_page_edit_with_a_stale_version_is_a_409_that_keeps_the_form(client_as, admin, workspace):
    channel = _channel(admin, workspace, HOOK)
    response = client_as(admin).post(f"/w/acme/channels/{channel.id}/", {
        "action": "save", "name": "#mine", "events": ["story.created"], "version": channel.version + 5})
    assert response.status_code == 409 and 'value="#mine"' in response.content.decode()
    channel.refresh_from_db()
    assert channel.name == "#product"


def test_channel_update_changes_name_events_product_and_url(admin, workspace):
    channel = _channel(admin, workspace, HOOK)
    product = ProductFactory(workspace=workspace)
    new_url = "https://hooks.slack.com/services/T0001/B0002/zyxwvutsrqponmlk"
    updated = services.channel_update(user=admin, channel=channel, version=channel.version, data={
        "name": "#renamed", "events": ["story.updated", "epic.created"], "product": product, "url": new_url})
    channel.refresh_from_db()
    channel.endpoint.refresh_from_db()
    assert (channel.name, channel.product_id, channel.endpoint.events) == (
        "#renamed", product.id, ["story.updated", "epic.created"])
    assert unseal(channel.url_sealed) == new_url
    assert channel.url_hint == "https://hooks.slack.com/…nmlk" and channel.endpoint.description == "#renamed"
    assert updated.version == 2 and Activity.objects.filter(verb="updated Slack channel").exists()


def test_delete_removes_the_channel_and_its_log(chat, admin, workspace, django_capture_on_commit_callbacks):
    channel = _channel(admin, workspace, chat.url())
    with django_capture_on_commit_callbacks(execute=True):
        services.channel_test_send(user=admin, channel=channel)
    services.channel_delete(user=admin, channel=channel)
    assert not Channel.objects.exists() and not WebhookEndpoint.objects.exists()
    assert not WebhookDelivery.objects.exists()


def test_channel_list_queries_do_not_grow_with_channels(client_as, admin, workspace,
                                                        django_assert_max_num_queries):
    client = client_as(admin)
    for i in range(3):
        _channel(admin, workspace, HOOK, name=f"#c{i}")
    with django_assert_max_num_queries(12):
        client.get("/w/acme/channels/")
    for i in range(3, 20):
        _channel(admin, workspace, HOOK, name=f"#c{i}")
    with django_assert_max_num_queries(12):
        client.get("/w/acme/channels/")
