"""Outbound requests (SSRF): every URL the server fetches goes through pmhub/outbound.py.

Generated over the class: every address form of `INTERNAL_HOSTS` x every URL field of every model
(found by introspection) x every way to save it (API create, API update, page), and again at send
time for a row stored without the check. A real HTTP receiver listens on 127.0.0.1 and must never
be reached unless the operator allows it (OUTBOUND_ALLOWED_HOSTS)."""

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.apps import apps
from django.db import models
from django.urls import reverse

from pmhub import outbound
from pmhub.webhooks import webhook_emit
from reports.models import WebhookDelivery, WebhookEndpoint
from tests.reports.factories import WebhookEndpointFactory

pytestmark = pytest.mark.django_db

# (host as written in a URL, the reason it is refused). Hosts that resolve to 127.0.0.1 would reach
# the receiver if the check were missing; the others would reach the private network.
INTERNAL_HOSTS = [
    ("127.0.0.1", "loopback address"),
    ("127.0.0.2", "loopback address"),
    ("localhost", "loopback address"),
    ("LOCALHOST.", "loopback address"),
    ("2130706433", "loopback address"),  # decimal
    ("0177.0.0.1", "loopback address"),  # octal
    ("0x7f.0.0.1", "loopback address"),  # hexadecimal
    ("127.1", "loopback address"),  # short form
    ("[::1]", "loopback address"),
    ("[::ffff:127.0.0.1]", "loopback address"),  # IPv4-mapped IPv6
    ("[::ffff:7f00:1]", "loopback address"),
    ("[64:ff9b::7f00:1]", "loopback address"),  # NAT64
    ("[2002:7f00:1::1]", "loopback address"),  # 6to4
    ("0.0.0.0", "unspecified address"),
    ("0", "unspecified address"),
    ("[::]", "unspecified address"),
    ("169.254.169.254", "link-local address"),  # cloud metadata
    ("[::ffff:169.254.169.254]", "link-local address"),
    ("[fe80::1]", "link-local address"),
    ("10.0.0.1", "private address"),
    ("172.16.5.4", "private address"),
    ("192.168.1.1", "private address"),
    ("[fd00::1]", "private address"),
    ("224.0.0.1", "multicast address"),
    ("[ff02::1]", "multicast address"),
    ("100.64.0.1", "reserved address"),  # carrier-grade NAT
    ("240.0.0.1", "reserved address"),
    ("255.255.255.255", "reserved address"),
]
PUBLIC_URL = "https://93.184.215.14/hooks/pmhub"  # a public address: accepted at save (nothing is fetched then)


def _url_fields():
    return sorted(f"{m._meta.label}.{f.name}" for m in apps.get_models() for f in m._meta.get_fields()
                  if isinstance(f, models.URLField))


class Receiver:
    """A real HTTP server on 127.0.0.1 recording every request; `status`/`location` shape its answer."""

    def __init__(self, status=200, location=""):
        self.received, self.status, self.location = [], status, location
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.received.append({"path": self.path, "host": self.headers["Host"]})
                self.send_response(receiver.status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.end_headers()

            do_GET = do_POST

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def url(self, host="127.0.0.1", path="/hook"):
        return f"http://{host}:{self.port}{path}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(autouse=True)
def _failures_stay_in_the_worker(monkeypatch):
    """Eager Celery as in production: a failed delivery is logged on its row, not raised to the caller."""
    from pmhub.celery import app

    monkeypatch.setitem(app.conf, "task_eager_propagates", False)


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


# --- how each URL field is saved; a new URLField without an entry here fails the test below ------
def _save_api_create(*, admin, workspace, api_as, client_as, url):
    response = api_as(admin, workspace).post("/api/v1/webhook-endpoints/",
                                             {"workspace": workspace.id, "url": url, "events": ["story.created"]})
    return response.status_code, response.json() if response.status_code != 201 else {}


def _save_api_update(*, admin, workspace, api_as, client_as, url):
    endpoint = WebhookEndpointFactory(workspace=workspace, url=PUBLIC_URL, events=["story.created"])
    response = api_as(admin, workspace).patch(f"/api/v1/webhook-endpoints/{endpoint.id}/",
                                              {"url": url, "version": endpoint.version})
    return response.status_code, response.json() if response.status_code != 200 else {}


def _save_page(*, admin, workspace, api_as, client_as, url):
    response = client_as(admin).post(reverse("reports:webhooks", kwargs={"ws": workspace.slug}),
                                     {"url": url, "events": ["story.created"]})
    form = response.context["form"]
    return response.status_code, {"url": form.errors.get("url", [])} if form.errors else {}


def _stored_without_check(*, workspace, url):
    """A row written before the check existed (or imported): only the send-time check stands."""
    return WebhookEndpointFactory(workspace=workspace, url=url, events=["story.created"])


SAVE_PATHS = {
    "reports.WebhookEndpoint.url": {
        "api create": _save_api_create, "api update": _save_api_update, "page": _save_page,
    },
}
STORE_WITHOUT_CHECK = {"reports.WebhookEndpoint.url": _stored_without_check}
# URL fields whose save paths and send-time check are walked by their app's own test over the same
# INTERNAL_HOSTS and Receiver (their rows, forms and senders differ from a webhook's).
COVERED_ELSEWHERE = {
    "sso.IdentityProvider.issuer": "tests/sso/test_outbound_sso.py",
    "sso.IdentityProvider.metadata_url": "tests/sso/test_outbound_sso.py (save paths; fetching is the SAML side's)",
}
SAVE_CASES = [(field, way, fn) for field, ways in SAVE_PATHS.items() for way, fn in ways.items()]


def _field_error_text(body) -> str:
    """The url field's message, in the API's error format or the page form's errors."""
    return " ".join(map(str, body.get("url") or body.get("errors", {}).get("url", [])))


def test_every_url_field_of_every_model_has_its_save_paths_tested():
    assert _url_fields() == sorted([*SAVE_PATHS, *COVERED_ELSEWHERE])
    assert sorted(SAVE_PATHS) == sorted(STORE_WITHOUT_CHECK)


@pytest.mark.parametrize("host,reason", INTERNAL_HOSTS, ids=[h for h, _ in INTERNAL_HOSTS])
def test_every_internal_address_form_is_refused_by_the_policy(host, reason):
    with pytest.raises(outbound.OutboundRefused) as refused:
        outbound.outbound_check_url(f"http://{host}:8080/hook")
    assert refused.value.reason == reason


@pytest.mark.parametrize("field,way,save", SAVE_CASES, ids=[f"{f}-{w}" for f, w, _ in SAVE_CASES])
@pytest.mark.parametrize("host,reason", INTERNAL_HOSTS, ids=[h for h, _ in INTERNAL_HOSTS])
def test_saving_an_internal_url_is_a_400_naming_the_reason_and_changes_nothing(
        host, reason, field, way, save, admin, workspace, api_as, client_as, receiver):
    before = list(WebhookEndpoint.objects.values_list("id", "url"))
    if way == "api update":
        before = None  # the update path makes its own row first
    status, body = save(admin=admin, workspace=workspace, api_as=api_as, client_as=client_as,
                        url=receiver.url(host))
    assert status == 400, body
    message = _field_error_text(body)
    assert message  # a field error on url
    # Django's URL validator already refuses some spellings (decimal, short) as "Enter a valid URL";
    # every spelling it lets through reaches the outbound check, which names its reason.
    assert reason in message or "valid URL" in message, message
    if before is not None:
        assert list(WebhookEndpoint.objects.values_list("id", "url")) == before
    else:
        assert not WebhookEndpoint.objects.filter(url=receiver.url(host)).exists()
    assert receiver.received == []


@pytest.mark.parametrize("field,way,save", SAVE_CASES, ids=[f"{f}-{w}" for f, w, _ in SAVE_CASES])
def test_saving_a_public_url_is_accepted(field, way, save, admin, workspace, api_as, client_as):
    status, body = save(admin=admin, workspace=workspace, api_as=api_as, client_as=client_as,
                        url=PUBLIC_URL.replace("/hooks/pmhub", f"/hooks/{way.replace(' ', '-')}"))
    assert status in (200, 201), body
    assert WebhookEndpoint.objects.filter(url__endswith=f"/hooks/{way.replace(' ', '-')}").exists()


@pytest.mark.parametrize("field,way,save", SAVE_CASES, ids=[f"{f}-{w}" for f, w, _ in SAVE_CASES])
def test_an_allowed_internal_host_can_be_saved(field, way, save, admin, workspace, api_as, client_as, receiver,
                                               settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    status, body = save(admin=admin, workspace=workspace, api_as=api_as, client_as=client_as, url=receiver.url())
    assert status in (200, 201), body
    assert WebhookEndpoint.objects.filter(url=receiver.url()).exists()


@pytest.mark.parametrize("field", sorted(STORE_WITHOUT_CHECK))
@pytest.mark.parametrize("host,reason", INTERNAL_HOSTS, ids=[h for h, _ in INTERNAL_HOSTS])
def test_a_stored_internal_url_is_refused_at_send_time_and_never_reached(
        host, reason, field, workspace, receiver, django_capture_on_commit_callbacks):
    STORE_WITHOUT_CHECK[field](workspace=workspace, url=receiver.url(host))

    with django_capture_on_commit_callbacks(execute=True):
        webhook_emit(workspace_id=workspace.id, event="story.created", payload={"id": 1})

    assert receiver.received == []
    delivery = WebhookDelivery.objects.get()
    # Failed at once (no retry can make it allowed), with a short reason and no timing or status.
    assert (delivery.status, delivery.attempts, delivery.error) == ("failed", 1, f"refused: {reason}")
    assert delivery.response_ms is None and delivery.response_status is None


def test_a_stored_internal_url_is_sent_once_the_operator_allows_it(workspace, receiver, settings,
                                                                   django_capture_on_commit_callbacks):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.0/8"]  # a network works as well as a name
    _stored_without_check(workspace=workspace, url=receiver.url("2130706433"))

    with django_capture_on_commit_callbacks(execute=True):
        webhook_emit(workspace_id=workspace.id, event="story.created", payload={"id": 1})

    assert len(receiver.received) == 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.response_status, delivery.error) == ("success", 200, "")
    assert delivery.response_ms is not None


def test_an_allowed_name_is_sent_with_its_host_header(workspace, receiver, settings,
                                                      django_capture_on_commit_callbacks):
    settings.OUTBOUND_ALLOWED_HOSTS = ["LocalHost"]
    _stored_without_check(workspace=workspace, url=receiver.url("localhost", "/in?x=1"))
    with django_capture_on_commit_callbacks(execute=True):
        webhook_emit(workspace_id=workspace.id, event="story.created", payload={})
    assert receiver.received == [{"path": "/in?x=1", "host": f"localhost:{receiver.port}"}]


def test_redirects_are_not_followed(workspace, settings, django_capture_on_commit_callbacks):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    target = Receiver()
    redirector = Receiver(status=302, location=target.url(path="/internal"))
    try:
        _stored_without_check(workspace=workspace, url=redirector.url())
        with django_capture_on_commit_callbacks(execute=True):
            webhook_emit(workspace_id=workspace.id, event="story.created", payload={})
        assert len(redirector.received) >= 1 and target.received == []
        delivery = WebhookDelivery.objects.get()
        assert delivery.response_status == 302 and delivery.error == "HTTP 302 (redirects are not followed)"
    finally:
        target.close()
        redirector.close()


def test_a_failed_connection_logs_a_short_reason_without_socket_text_or_timing(
        workspace, settings, django_capture_on_commit_callbacks):
    from tests.reports.smtp import free_port

    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    _stored_without_check(workspace=workspace, url=f"http://127.0.0.1:{free_port()}/closed")
    with django_capture_on_commit_callbacks(execute=True):
        webhook_emit(workspace_id=workspace.id, event="story.created", payload={})
    delivery = WebhookDelivery.objects.get()
    assert delivery.error == "connection failed" and delivery.response_ms is None


def test_a_silent_receiver_logs_timeout(workspace, settings, django_capture_on_commit_callbacks):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.WEBHOOK_TIMEOUT = 0.2  # the listener never answers: every attempt times out, however short
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts the connection, never answers
    try:
        _stored_without_check(workspace=workspace, url=f"http://127.0.0.1:{listener.getsockname()[1]}/slow")
        with django_capture_on_commit_callbacks(execute=True):
            webhook_emit(workspace_id=workspace.id, event="story.created", payload={})
    finally:
        listener.close()
    delivery = WebhookDelivery.objects.get()
    assert delivery.error == "timeout" and delivery.response_ms is None


def test_the_connection_goes_to_the_address_that_was_checked(receiver, settings, monkeypatch):
    """DNS rebinding: the name answers a vetted address first and an internal one afterwards. The
    request must reach the first (the receiver, allowed here) without asking DNS again."""
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    real = socket.getaddrinfo
    answers = iter(["127.0.0.1"] + ["10.255.255.1"] * 5)
    calls = []

    def rebinding_dns(host, port, *args, **kwargs):
        if host != "rebind.example":
            return real(host, port, *args, **kwargs)
        calls.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_dns)
    response = outbound.outbound_post(receiver.url("rebind.example"), body=b"{}", headers={}, timeout=2)
    assert response.status == 200 and calls == ["rebind.example"]
    assert receiver.received == [{"path": "/hook", "host": f"rebind.example:{receiver.port}"}]


def test_a_name_with_one_internal_answer_among_public_ones_is_refused(monkeypatch, receiver):
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, port, *a, **k: [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))])
    with pytest.raises(outbound.OutboundRefused, match="loopback"):
        outbound.outbound_post(receiver.url("mixed.example"), body=b"{}", headers={}, timeout=2)
    assert receiver.received == []


@pytest.mark.parametrize("url", ["ftp://93.184.215.14/x", "file:///etc/passwd", "gopher://93.184.215.14/",
                                 "http://user:pw@93.184.215.14/", "http://93.184.215.14:99999/", "http:///x"])
def test_other_schemes_credentials_and_broken_urls_are_refused(url):
    with pytest.raises(outbound.OutboundRefused):
        outbound.outbound_check_url(url)


def test_a_name_that_does_not_resolve_yet_is_accepted_at_save_and_fails_at_send():
    outbound.outbound_check_url("https://hooks.acme.test/in")  # no exception: checked again at send
    with pytest.raises(outbound.OutboundFailed, match="name not resolved"):
        outbound.outbound_post("https://hooks.acme.test/in", body=b"{}", headers={}, timeout=2)
