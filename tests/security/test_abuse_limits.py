"""Abuse limits: throttling (429 + Retry-After + the one error format), page size cap,
request body cap (413 JSON), batch size cap."""

import json

import pytest
from django.urls import reverse
from rest_framework.exceptions import APIException

from pmhub.api.limits import PayloadTooLarge, check_batch
from pmhub.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def low_rates(settings):
    def set_rates(token="3/min", address="1000/min"):
        settings.REST_FRAMEWORK = settings.REST_FRAMEWORK | {
            "DEFAULT_THROTTLE_RATES": {"token": token, "address": address}}

    return set_rates


def _assert_throttled(response):
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "throttled" and body["errors"] == {} and body["detail"]
    assert int(response["Retry-After"]) > 0


def test_token_is_throttled_with_429_json_and_retry_after(api_as, admin, low_rates):
    low_rates(token="3/min")
    client = api_as(admin)
    for _ in range(3):
        assert client.get("/api/v1/workspaces/").status_code == 200
    _assert_throttled(client.get("/api/v1/workspaces/"))


def test_token_throttle_is_per_token(api_as, admin, editor, low_rates):
    low_rates(token="3/min")
    first, second = api_as(admin), api_as(editor)
    for _ in range(3):
        first.get("/api/v1/workspaces/")
    _assert_throttled(first.get("/api/v1/workspaces/"))
    assert second.get("/api/v1/workspaces/").status_code == 200


def test_address_is_throttled_even_for_anonymous_callers(api, low_rates):
    low_rates(token="1000/min", address="3/min")
    for _ in range(3):
        assert api.get("/api/v1/workspaces/").status_code == 401
    _assert_throttled(api.get("/api/v1/workspaces/"))


def test_forged_forwarded_for_does_not_escape_the_address_throttle(api, low_rates):
    low_rates(token="1000/min", address="3/min")
    for n in range(3):
        api.get("/api/v1/workspaces/", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
    _assert_throttled(api.get("/api/v1/workspaces/", HTTP_X_FORWARDED_FOR="10.9.9.9"))


def test_page_size_is_capped_at_200(api_as, admin, workspace):
    Notification.objects.bulk_create(
        [Notification(recipient=admin, workspace=workspace, kind="other", title=f"n{i}") for i in range(205)])
    response = api_as(admin).get("/api/v1/notifications/?page_size=10000")
    assert response.status_code == 200
    assert len(response.json()["results"]) == 200


def test_cursor_page_size_is_capped_at_200(api_as, admin, workspace):
    from pmhub.models import Activity

    Activity.objects.bulk_create([Activity(workspace=workspace, actor=admin, verb=f"v{i}") for i in range(205)])
    response = api_as(admin).get("/api/v1/activity/?page_size=10000")
    assert response.status_code == 200
    assert len(response.json()["results"]) == 200


def test_api_body_over_the_limit_is_413_json_and_nothing_changes(api_as, admin, workspace, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"name": "x" * 2000, "time_zone": "UTC"})
    response = api_as(admin).generic("PATCH", f"/api/v1/workspaces/{workspace.id}/", body,
                                     content_type="application/json")
    assert response.status_code == 413
    assert response.json() == {"detail": "The request body is larger than the limit of 1000 bytes.",
                               "code": "too_large", "errors": {}}
    workspace.refresh_from_db()
    assert workspace.name == "Acme"


def test_page_form_over_the_limit_is_413_not_400(client_as, admin, workspace, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client_as(admin).post(reverse("workspace_settings", kwargs={"ws": workspace.slug}),
                                     {"name": "x" * 2000, "time_zone": "UTC"})
    assert response.status_code == 413
    workspace.refresh_from_db()
    assert workspace.name == "Acme"


def test_body_under_the_limit_is_served(api_as, admin, workspace, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api_as(admin).patch(f"/api/v1/workspaces/{workspace.id}/", {"name": "Acme 2", "version": workspace.version},
                                    format="json")
    assert response.status_code == 200


def test_check_batch_passes_up_to_the_limit_and_refuses_beyond(settings):
    settings.API_MAX_BATCH_SIZE = 3
    assert check_batch([1, 2, 3]) == [1, 2, 3]
    with pytest.raises(PayloadTooLarge) as exc:
        check_batch([1, 2, 3, 4])
    assert isinstance(exc.value, APIException)
    assert exc.value.status_code == 413
    assert "At most 3 items" in str(exc.value.detail)


def test_check_batch_error_is_in_the_one_error_format(settings):
    from pmhub.api.exceptions import exception_handler

    settings.API_MAX_BATCH_SIZE = 1
    try:
        check_batch([1, 2])
    except PayloadTooLarge as exc:
        response = exception_handler(exc, {})
    assert response.status_code == 413
    assert response.data["code"] == "too_large" and response.data["errors"] == {}


def test_unknown_api_url_is_a_json_404(api_as, admin):
    response = api_as(admin).get("/api/v1/jobs/not-a-number/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_ids_beyond_64_bits_are_a_400_not_a_500(api_as, admin):
    response = api_as(admin).post("/api/v1/notifications/mark_read/", {"ids": [2**70]}, format="json")
    assert response.status_code in (200, 400), response.content  # PostgreSQL matches nothing; SQLite refuses
    if response.status_code == 400:
        assert response.json()["code"] == "invalid"
