"""Deployment: security headers on every response; HSTS and secure cookies with PMHUB_HTTPS=true.
(`check --deploy --fail-level WARNING` with production settings: tests/core/test_workspaces.py.)"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("path", ["/accounts/login/", "/api/v1/workspaces/", "/api/schema/", "/healthz"])
def test_security_headers_on_pages_api_and_errors(client, path):
    response = client.get(path)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    csp = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
    assert csp["script-src"] == "'self'"
    assert csp["default-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'" and csp["base-uri"] == "'self'" and csp["form-action"] == "'self'"
    assert "unsafe-eval" not in response["Content-Security-Policy"]


def test_pages_have_no_inline_scripts_or_handlers(client_as, admin, workspace):
    from .htmlcheck import unsafe_parts

    client = client_as(admin)
    for url in [reverse("workspace_home", kwargs={"ws": "acme"}), reverse("members", kwargs={"ws": "acme"}),
                reverse("api_tokens"), reverse("login")]:
        assert not unsafe_parts(client.get(url).content.decode(), "\0"), url


def test_hsts_and_secure_cookies_with_https(client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_SSL_REDIRECT = False
    response = client.get(reverse("login"), secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


def test_production_env_turns_on_https_settings():
    env = dict(os.environ, PMHUB_HTTPS="true", DEBUG="false", SECRET_KEY="x" * 60, ALLOWED_HOSTS="pmhub.example.com",
               DATABASE_URL="sqlite:///:memory:")
    code = ("import django, json; django.setup(); from django.conf import settings as s; print(json.dumps(["
            "s.SECURE_HSTS_SECONDS, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
            "s.SECURE_PROXY_SSL_HEADER, s.SESSION_COOKIE_HTTPONLY, s.DEBUG]))")
    out = subprocess.run([sys.executable, "-c", code], env=env | {"DJANGO_SETTINGS_MODULE": "pmhub.settings"},
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    hsts, redirect, session_secure, csrf_secure, proxy, httponly, debug = json.loads(out.strip().splitlines()[-1])
    assert hsts >= 31536000 and redirect and session_secure and csrf_secure and httponly and not debug
    assert proxy == ["HTTP_X_FORWARDED_PROTO", "https"]
