"""Outbound requests: the one policy for every URL the server fetches on a user's behalf
(webhooks today; Jira, Slack and other integrations tomorrow). See docs/decisions/1200-outbound-requests.md.

A URL a workspace admin typed must not let them reach what only the server can reach: the
loopback interface, the private network, the cloud metadata address (169.254.169.254). So:

- `outbound_check_url(url)` at save time: raises `OutboundRefused` with a short reason when any
  address the host resolves to is not a public unicast address (IP literals in every spelling,
  `localhost`, IPv4-mapped IPv6 and names alike: everything goes through getaddrinfo, which also
  reads `2130706433`, `0177.0.0.1` and `127.1`). A name that does not resolve yet is accepted at
  save time: the send-time check is the one that guards.
- `outbound_post(url, body=, headers=, timeout=)` at send time: resolves and checks again, then
  connects to the very address it checked (the Host header and TLS SNI/certificate still carry
  the name), so a DNS answer that changes between the check and the connection (rebinding) is
  never used. Redirects are not followed. Failures raise `OutboundFailed` with a short reason
  ("timeout", "connection failed"), never the socket's error text or timing, which would turn the
  feature into a port scanner of the internal network.

`OUTBOUND_ALLOWED_HOSTS` (setting) names internal hosts an operator allows: host names (exact,
case-insensitive) or IP networks (`10.1.2.3`, `10.0.0.0/8`), for an on-premises Jira for example.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

SCHEMES = {"http": 80, "https": 443}
# NAT64 (RFC 6052) embeds an IPv4 address in its last 32 bits; a NAT64 gateway would reach it.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class OutboundRefused(Exception):
    """The URL may not be fetched. `reason` is short and safe to show (e.g. "private address")."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class OutboundFailed(Exception):
    """The request was allowed but did not get an HTTP answer. `reason` is short and safe to show."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class OutboundResponse:
    status: int
    # Seconds the receiver asked us to wait (a 429's or 503's Retry-After), None when it did not say.
    retry_after: float | None = None


MAX_RETRY_AFTER = 3600.0


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """Read a Retry-After header: delta-seconds or an HTTP date; bounded to an hour, never negative.
    None when absent or unreadable (the caller's own backoff then applies)."""
    import email.utils
    import time

    value = (value or "").strip()
    if not value:
        return None
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    delta = when.timestamp() - (time.time() if now is None else now)
    return min(max(delta, 0.0), MAX_RETRY_AFTER)


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str  # the vetted IP to connect to


def address_refusal(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why this address may not be fetched (a short reason), or None for a public unicast address.
    An IPv6 address that carries an IPv4 one (mapped, 6to4, Teredo, NAT64) is judged by that too."""
    if ip.version == 6:
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and (reason := address_refusal(embedded)):
            return reason
    if ip.is_unspecified:
        return "unspecified address"
    if ip.is_loopback:
        return "loopback address"
    if ip.is_link_local:
        return "link-local address"
    if ip.is_multicast:
        return "multicast address"
    if ip.is_reserved:  # before is_private, which also covers 240/4 and 255.255.255.255
        return "reserved address"
    if ip.is_private:
        return "private address"
    if not ip.is_global:  # 100.64/10 (carrier-grade NAT) and the like
        return "reserved address"
    return None


def _allowed_entries() -> tuple[set[str], list]:
    names, networks = set(), []
    for entry in getattr(settings, "OUTBOUND_ALLOWED_HOSTS", []) or []:
        entry = entry.strip().lower().rstrip(".")
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
        except ValueError:
            names.add(entry)
    return names, networks


def _split(url: str) -> tuple[str, str, int, str]:
    try:
        parts = urlsplit((url or "").strip())
        port = parts.port
    except ValueError:
        raise OutboundRefused("invalid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES or not parts.hostname:
        raise OutboundRefused("only http:// and https:// URLs")
    if parts.username or parts.password:
        raise OutboundRefused("credentials in the URL")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return scheme, parts.hostname.rstrip("."), port or SCHEMES[scheme], path


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (UnicodeError, OSError, ValueError):  # gaierror is an OSError; a NUL in the name a ValueError
        return []
    return list(dict.fromkeys(info[4][0] for info in infos))


def _vet(url: str, *, require_resolved: bool) -> _Target | None:
    scheme, host, port, path = _split(url)
    addresses = _resolve(host, port)
    if not addresses:
        if require_resolved:
            raise OutboundFailed("name not resolved")
        return None
    names, networks = _allowed_entries()
    host_allowed = host.lower() in names
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if host_allowed or any(ip in net for net in networks if net.version == ip.version):
            continue
        reason = address_refusal(ip)
        if reason:
            # Every address must pass: a name with one public and one private answer is refused,
            # else the connection could be steered to the private one.
            raise OutboundRefused(reason)
    return _Target(scheme=scheme, host=host, port=port, path=path, address=addresses[0])


def outbound_check_url(url: str) -> None:
    """Save-time check of a URL the server will fetch later. Raises OutboundRefused(reason)."""
    _vet(url, require_resolved=False)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Speaks to `host` (Host header) but connects to the vetted address only."""

    def __init__(self, *args, address: str, **kwargs):
        super().__init__(*args, **kwargs)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to the vetted address, with SNI and certificate verification for the name."""

    def __init__(self, *args, address: str, **kwargs):
        super().__init__(*args, **kwargs)
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _pinned(target: _Target, *, timeout: float):
    """A connection pinned to the target's vetted address, and the Host header."""
    host_header = _host_of(target)
    if target.scheme == "https":
        connection = _PinnedHTTPSConnection(target.host, target.port, timeout=timeout, address=target.address,
                                            context=ssl.create_default_context())
    else:
        connection = _PinnedHTTPConnection(target.host, target.port, timeout=timeout, address=target.address)
    return connection, host_header


def _connection_to(url: str, *, timeout: float):
    """The vetted target of `url`, a connection pinned to its vetted address, and the Host header."""
    target = _vet(url, require_resolved=True)
    connection, host_header = _pinned(target, timeout=timeout)
    return target, connection, host_header


def outbound_post(url: str, *, body: bytes, headers: dict, timeout: float) -> OutboundResponse:
    """POST `body` to `url` under the outbound policy; returns the HTTP status (a 3xx is returned,
    not followed). Raises OutboundRefused or OutboundFailed, each with a short safe reason."""
    target, connection, host_header = _connection_to(url, timeout=timeout)
    try:
        connection.request("POST", target.path, body=body,
                           headers={**headers, "Host": host_header, "Content-Length": str(len(body))})
        response = connection.getresponse()
        response.read(64 * 1024)  # drain a little so the receiver sees a clean close; the body is not used
        return OutboundResponse(status=response.status,
                                retry_after=retry_after_seconds(response.getheader("Retry-After")))
    except TimeoutError:
        raise OutboundFailed("timeout") from None
    except ssl.SSLError:
        raise OutboundFailed("TLS error") from None
    except (OSError, http.client.HTTPException):
        raise OutboundFailed("connection failed") from None
    finally:
        connection.close()


@dataclass(frozen=True)
class OutboundReply:
    """An answer with its body (outbound_request, outbound_fetch): status, the headers in lower case,
    the body (bounded)."""

    status: int
    headers: dict
    body: bytes
    retry_after: float | None = None


MAX_REPLY_BYTES = 16 * 1024 * 1024


def outbound_request(method: str, url: str, *, headers: dict, body: bytes | None = None, timeout: float,
                     max_bytes: int = MAX_REPLY_BYTES) -> OutboundReply:
    """Any method (an API client: Jira) under the same policy as outbound_post: resolved and vetted
    at send time, connected to the vetted address, no redirects followed. The answer's body is read
    up to `max_bytes` (a longer one fails as "answer too large"). Raises OutboundRefused/OutboundFailed."""
    target, connection, host_header = _connection_to(url, timeout=timeout)
    sent = {**headers, "Host": host_header}
    if body is not None:
        sent["Content-Length"] = str(len(body))
    try:
        connection.request(method.upper(), target.path, body=body, headers=sent)
        response = connection.getresponse()
        data = response.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise OutboundFailed("answer too large")
        return OutboundReply(status=response.status, headers={k.lower(): v for k, v in response.getheaders()},
                             body=data, retry_after=retry_after_seconds(response.getheader("Retry-After")))
    except TimeoutError:
        raise OutboundFailed("timeout") from None
    except ssl.SSLError:
        raise OutboundFailed("TLS error") from None
    except (OSError, http.client.HTTPException):
        raise OutboundFailed("connection failed") from None
    finally:
        connection.close()


def outbound_fetch(url: str, *, method: str = "GET", body: bytes | None = None, headers: dict | None = None,
                   timeout: float = 10.0, max_bytes: int = 1024 * 1024) -> OutboundReply:
    """A request whose answer the caller reads (an identity provider's discovery document, keys,
    token endpoint; a SAML metadata URL): outbound_request with a small default size bound."""
    return outbound_request(method, url, headers=headers or {}, body=body, timeout=timeout, max_bytes=max_bytes)


def outbound_host_listed(url: str) -> bool:
    """Whether the URL's host is one the operator allowed in OUTBOUND_ALLOWED_HOSTS (by name, or an
    IP literal inside a listed network). Features that require https:// from the internet accept
    http:// from such an internal host (an identity provider on the intranet, the tests' loopback)."""
    try:
        host = (urlsplit((url or "").strip()).hostname or "").rstrip(".").lower()
    except ValueError:
        return False
    names, networks = _allowed_entries()
    if host in names:
        return True
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return any(ip in net for net in networks if net.version == ip.version)


class OutboundSession:
    """outbound_request with connections kept alive (an API client that sends many requests to one
    host: the Jira sync). Every request is still resolved and vetted at send time; a kept connection
    is reused only for the same scheme, host, port and vetted address, and only while idle less than
    `idle_seconds`. A kept connection the server closed meanwhile is retried once on a fresh one
    (the request never reached the server). Thread-safe: a connection serves one request at a time."""

    def __init__(self, *, idle_seconds: float = 30.0, keep: int = 4):
        self.idle_seconds, self.keep = idle_seconds, keep
        self._idle: dict[tuple, list[tuple[float, http.client.HTTPConnection]]] = {}
        self._lock = threading.Lock()
        self.opened = 0  # connections opened (the bench and tests read it)

    def _take(self, key: tuple):
        now = time.monotonic()
        with self._lock:
            pool = self._idle.get(key) or []
            while pool:
                used_at, connection = pool.pop()
                if now - used_at < self.idle_seconds:
                    return connection
                connection.close()
        return None

    def _give_back(self, key: tuple, connection) -> None:
        with self._lock:
            pool = self._idle.setdefault(key, [])
            if len(pool) < self.keep:
                pool.append((time.monotonic(), connection))
                return
        connection.close()

    def close(self) -> None:
        with self._lock:
            pools, self._idle = self._idle, {}
        for pool in pools.values():
            for _, connection in pool:
                connection.close()

    def request(self, method: str, url: str, *, headers: dict, body: bytes | None = None, timeout: float,
                max_bytes: int = MAX_REPLY_BYTES) -> OutboundReply:
        target = _vet(url, require_resolved=True)
        key = (target.scheme, target.host, target.port, target.address)
        for attempt in (1, 2):
            connection = self._take(key) if attempt == 1 else None
            reused = connection is not None
            if connection is None:
                connection, _ = _pinned(target, timeout=timeout)
                self.opened += 1
            else:
                connection.timeout = timeout
                if connection.sock is not None:
                    connection.sock.settimeout(timeout)
            sent = {**headers, "Host": _host_of(target)}
            if body is not None:
                sent["Content-Length"] = str(len(body))
            try:
                connection.request(method.upper(), target.path, body=body, headers=sent)
                response = connection.getresponse()
                data = response.read(max_bytes + 1)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                connection.close()
                if reused:
                    continue  # the server closed the kept connection: once more on a fresh one
                raise OutboundFailed("connection failed") from None
            except TimeoutError:
                connection.close()
                raise OutboundFailed("timeout") from None
            except ssl.SSLError:
                connection.close()
                raise OutboundFailed("TLS error") from None
            except (OSError, http.client.HTTPException):
                connection.close()
                raise OutboundFailed("connection failed") from None
            if len(data) > max_bytes:
                connection.close()
                raise OutboundFailed("answer too large")
            if response.will_close:
                connection.close()
            else:
                self._give_back(key, connection)
            return OutboundReply(status=response.status, headers={k.lower(): v for k, v in response.getheaders()},
                                 body=data, retry_after=retry_after_seconds(response.getheader("Retry-After")))
        raise OutboundFailed("connection failed")


def _host_of(target: _Target) -> str:
    host_header = target.host if ":" not in target.host else f"[{target.host}]"
    return host_header if target.port == SCHEMES[target.scheme] else f"{host_header}:{target.port}"
