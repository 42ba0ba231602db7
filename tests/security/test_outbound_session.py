"""pmhub.outbound.OutboundSession (the Jira sync's kept-alive connections): the outbound policy
still applies to every request, a kept connection is reused for the same vetted address only, and a
connection the server closed is replaced without failing the request. A real HTTP/1.1 server on
127.0.0.1 counts the connections it accepted."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pmhub import outbound


class _Server:
    def __init__(self):
        self.connections = 0
        self.requests = 0
        self.close_next = False
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                server.connections += 1

            def do_GET(self):
                server.requests += 1
                body = b'{"ok": true}'
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                if server.close_next:  # answer, then close without telling ("Connection: close" unsaid)
                    server.close_next = False
                    self.close_connection = True
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/x"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = _Server()
    yield s
    s.close()


def test_requests_share_one_kept_connection(server, settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    session = outbound.OutboundSession()
    for _ in range(5):
        assert session.request("GET", server.url, headers={}, timeout=5).status == 200
    assert (server.requests, server.connections, session.opened) == (5, 1, 1)
    session.close()


def test_the_policy_still_refuses_each_request_of_a_session(server, settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    session = outbound.OutboundSession()
    session.request("GET", server.url, headers={}, timeout=5)
    settings.OUTBOUND_ALLOWED_HOSTS = []  # the operator takes the host off the list: the kept connection is not used
    with pytest.raises(outbound.OutboundRefused):
        session.request("GET", server.url, headers={}, timeout=5)
    assert server.requests == 1


def test_a_connection_the_server_closed_is_replaced_without_failing(server, settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    session = outbound.OutboundSession()
    server.close_next = True
    session.request("GET", server.url, headers={}, timeout=5)
    assert session.request("GET", server.url, headers={}, timeout=5).status == 200
    assert (server.requests, server.connections) == (2, 2)


def test_an_idle_connection_is_not_reused_after_its_time(server, settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    session = outbound.OutboundSession(idle_seconds=0)
    session.request("GET", server.url, headers={}, timeout=5)
    session.request("GET", server.url, headers={}, timeout=5)
    assert server.connections == 2 and session.opened == 2
