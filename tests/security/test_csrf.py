"""CSRF is enforced for session-authenticated writes (pages and API); token-authenticated API
calls do not need it (no ambient credential a third-party site could ride on)."""

import pytest
from django.test import Client
from django.urls import reverse

from pmhub.models import Workspace

pytestmark = pytest.mark.django_db


@pytest.fixture
def csrf_client(admin):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    return client


def _csrf_token(client, url):
    client.get(url)
    return client.cookies["csrftoken"].value


def test_page_write_without_csrf_token_is_refused(csrf_client, workspace):
    url = reverse("workspace_settings", kwargs={"ws": workspace.slug})
    response = csrf_client.post(url, {"name": "Hijacked", "time_zone": "UTC"})
    assert response.status_code == 403
    assert Workspace.objects.get(pk=workspace.pk).name == "Acme"


def test_page_write_with_csrf_token_is_accepted(csrf_client, workspace):
    url = reverse("workspace_settings", kwargs={"ws": workspace.slug})
    token = _csrf_token(csrf_client, url)
    response = csrf_client.post(url, {"name": "Renamed", "time_zone": "UTC", "version": workspace.version,
                                      "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert Workspace.objects.get(pk=workspace.pk).name == "Renamed"


@pytest.mark.parametrize("name", ["members", "api_tokens", "workspace_create", "notifications"])
def test_every_core_form_refuses_a_post_without_csrf(csrf_client, workspace, name):
    url = reverse(name, kwargs={"ws": workspace.slug} if name == "members" else {})
    response = csrf_client.post(url, {"name": "x", "email": "x@example.com", "role": 10, "time_zone": "UTC"})
    assert response.status_code == 403


def test_sign_in_form_needs_csrf(admin):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": admin.email, "password": "whatever"})
    assert response.status_code == 403


def test_api_session_write_without_csrf_is_refused(csrf_client, workspace):
    response = csrf_client.patch(f"/api/v1/workspaces/{workspace.id}/", {"name": "Hijacked"},
                                 content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert Workspace.objects.get(pk=workspace.pk).name == "Acme"


def test_api_session_write_with_csrf_header_is_accepted(csrf_client, workspace):
    token = _csrf_token(csrf_client, reverse("workspace_settings", kwargs={"ws": workspace.slug}))
    response = csrf_client.patch(f"/api/v1/workspaces/{workspace.id}/", {"name": "Renamed", "version": workspace.version},
                                 content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200


def test_api_token_write_needs_no_csrf(admin, workspace):
    from tests.factories import make_token

    client = Client(enforce_csrf_checks=True)
    raw = make_token(user=admin, workspace=workspace)
    response = client.patch(f"/api/v1/workspaces/{workspace.id}/", {"name": "By token", "version": workspace.version},
                            content_type="application/json", HTTP_AUTHORIZATION=f"Token {raw}")
    assert response.status_code == 200
    assert Workspace.objects.get(pk=workspace.pk).name == "By token"
