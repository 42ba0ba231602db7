"""A real OpenID provider on 127.0.0.1 for the tests: the `oidc-provider-mock` package (a Flask app
built on Authlib that signs real RS256 ID tokens and serves discovery and JWKS), served by
werkzeug in a thread, behind a small WSGI layer of ours that

- enforces PKCE (the mock ignores it): the token endpoint answers `invalid_grant` unless
  S256(code_verifier) is the code_challenge of the authorization request that issued the code;
- can spoil the next token response the way an attacker or a broken provider would: a token
  signed with another key (forged), or signed with the provider's own key but expired, for
  another audience or from another issuer, or the previous sign-in's token replayed.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import threading
import time
from urllib.parse import parse_qs, urlsplit

import flask
import requests
import werkzeug.serving
from joserfc import jwt
from joserfc.jwk import RSAKey
from oidc_provider_mock import app as mock_app


class MockProvider:
    def __init__(self):
        self.flask_app = mock_app(require_nonce=True)
        self._storage = {}

        @self.flask_app.before_request
        def _keep_storage():  # runs after the mock's own, which sets g.oidc_provider_mock_storage
            self._storage["s"] = flask.g.oidc_provider_mock_storage

        self.challenges: dict[str, str] = {}
        self.pkce_checked = 0
        self.spoil: str | None = None  # "forge" | "expired" | "audience" | "issuer" | "replay"
        self.last_token: bytes | None = None
        self.server = werkzeug.serving.make_server("127.0.0.1", 0, self, threaded=True)
        self.issuer = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(2)

    # --- the test's side ----------------------------------------------------------------------

    def set_user(self, sub: str, **claims):
        requests.put(f"{self.issuer}/users/{sub}", json=claims, timeout=5).raise_for_status()

    def authorize(self, url: str, *, sub: str) -> str:
        """The person signs in at the provider (its form, posted): the callback URL it redirects to."""
        response = requests.post(url, data={"sub": sub}, allow_redirects=False, timeout=5)
        assert response.status_code == 302, response.text[:500]
        return response.headers["Location"]

    # --- WSGI -----------------------------------------------------------------------------------

    def __call__(self, environ, start_response):
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD")
        if path == "/oauth2/authorize" and method == "POST":
            challenge = parse_qs(environ.get("QUERY_STRING", "")).get("code_challenge", [""])[0]
            method_ = parse_qs(environ.get("QUERY_STRING", "")).get("code_challenge_method", [""])[0]

            def start(status, headers, exc_info=None):
                location = dict(headers).get("Location", "")
                code = parse_qs(urlsplit(location).query).get("code", [""])[0]
                if code:
                    self.challenges[code] = challenge if method_ == "S256" else ""
                return start_response(status, headers, exc_info)

            return self.flask_app(environ, start)
        if path == "/oauth2/token" and method == "POST":
            return self._token(environ, start_response)
        return self.flask_app(environ, start_response)

    def _token(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        form = parse_qs(body.decode())
        code, verifier = form.get("code", [""])[0], form.get("code_verifier", [""])[0]
        expected = self.challenges.pop(code, None)
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if not expected or digest != expected:
            return self._json(start_response, "400 Bad Request", {"error": "invalid_grant",
                                                                   "error_description": "PKCE verification failed"})
        self.pkce_checked += 1
        environ = {**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}
        captured = {}

        def start(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        chunks = b"".join(self.flask_app(environ, start))
        if captured["status"].startswith("200"):
            if self.spoil == "replay" and self.last_token is not None:
                chunks = self.last_token
            else:
                self.last_token = chunks
                if self.spoil:
                    chunks = self._spoiled(chunks)
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        start_response(captured["status"], [*headers, ("Content-Length", str(len(chunks)))])
        return [chunks]

    def _spoiled(self, chunks: bytes) -> bytes:
        token = json.loads(chunks)
        header_b64, payload_b64, _sig = token["id_token"].split(".")
        header = json.loads(base64.urlsafe_b64decode(header_b64 + "=" * (-len(header_b64) % 4)))
        claims = json.loads(base64.urlsafe_b64decode(payload_b64 + "=" * (-len(payload_b64) % 4)))
        real_key = RSAKey.import_key(self._storage["s"].jwk.as_dict(is_private=True))
        key = real_key
        now = int(time.time())
        if self.spoil == "forge":
            key = RSAKey.generate_key(2048)  # same kid in the header, another key: the signature fails
        elif self.spoil == "expired":
            claims.update(iat=now - 7200, exp=now - 3600)
        elif self.spoil == "audience":
            claims["aud"] = "someone-else"
        elif self.spoil == "issuer":
            claims["iss"] = "http://127.0.0.1:1"
        new_header = {"alg": "RS256", **({"kid": header["kid"]} if header.get("kid") else {})}
        token["id_token"] = jwt.encode(new_header, claims, key)
        return json.dumps(token).encode()

    @staticmethod
    def _json(start_response, status, data):
        body = json.dumps(data).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]
