"""The API-token cache (pmhub/tokencache.py): a token call authenticates without a database query,
and every change that matters is seen on the very next call."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from pmhub import services
from pmhub.api.authentication import _entry_from_database
from pmhub.models import ApiToken, Membership, Role, hash_secret
from pmhub.tokencache import token_entry_add, token_entry_get
from tests.factories import make_token

pytestmark = pytest.mark.django_db
URL = "/api/v1/workspaces/"


def _client(raw):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    return client


def _auth_queries(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL)
    assert response.status_code == 200
    return [q["sql"] for q in queries.captured_queries
            if '"pmhub_apitoken"' in q["sql"] or q["sql"].startswith('SELECT "pmhub_user"')]


def test_second_call_reads_no_token_or_user_row(editor, workspace):
    client = _client(make_token(user=editor, workspace=workspace))
    assert _auth_queries(client)  # the first call reads the token and caches it
    assert _auth_queries(client) == []
    assert client.get(URL).json()["results"][0]["slug"] == workspace.slug


def test_api_tokens_revoke_revokes_and_forgets_a_cached_token(editor, workspace):
    raw = make_token(user=editor, workspace=workspace)
    client = _client(raw)
    assert client.get(URL).status_code == 200
    assert token_entry_get(hash_secret(raw)) is not None
    assert services.api_tokens_revoke(ApiToken.objects.filter(user=editor)) == 1
    assert ApiToken.objects.get(user=editor).revoked_at is not None
    assert client.get(URL).status_code == 401
    assert services.api_tokens_revoke(ApiToken.objects.filter(user=editor)) == 0  # already revoked


def test_revoke_service_refuses_a_cached_token_at_once(editor, workspace):
    raw = make_token(user=editor, workspace=workspace)
    client = _client(raw)
    assert client.get(URL).status_code == 200
    services.api_token_revoke(user=editor, token=ApiToken.objects.get(user=editor))
    assert client.get(URL).status_code == 401


def test_member_removed_by_the_service_is_refused_at_once(admin, editor, workspace):
    client = _client(make_token(user=editor, workspace=workspace))
    assert client.get(URL).status_code == 200
    services.membership_remove(user=admin, membership=Membership.objects.get(user=editor, workspace=workspace))
    assert client.get(URL).status_code == 401


def test_demotion_is_seen_on_the_next_call(admin, editor, workspace):
    client = _client(make_token(user=editor, workspace=workspace))
    assert client.get(URL).json()["results"][0]["role"] in ("editor", Role.EDITOR, "Editor")
    membership = Membership.objects.get(user=editor, workspace=workspace)
    membership.role = Role.VIEWER
    membership.save(update_fields=["role"])
    response = client.patch(f"{URL}{workspace.id}/", {"name": "Nope", "version": workspace.version}, format="json")
    assert response.status_code == 403


def test_deactivated_owner_is_refused_at_once(editor, workspace):
    client = _client(make_token(user=editor, workspace=workspace))
    assert client.get(URL).status_code == 200
    editor.is_active = False
    editor.save()
    assert client.get(URL).status_code == 401


def test_a_read_before_a_revocation_cannot_put_the_token_back(editor, workspace):
    raw = make_token(user=editor, workspace=workspace)
    stale = _entry_from_database(hash_secret(raw))  # a request read the row ...
    services.api_tokens_revoke(ApiToken.objects.filter(user=editor))  # ... the token is revoked ...
    token_entry_add(hash_secret(raw), stale)  # ... and that request tries to cache what it read
    assert token_entry_get(hash_secret(raw)) is None
    assert _client(raw).get(URL).status_code == 401


def test_last_used_at_is_written_at_most_once_a_minute(editor, workspace):
    client = _client(make_token(user=editor, workspace=workspace))
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client.get(URL)
        first = ApiToken.objects.get(user=editor).last_used_at
        assert first == start
        for seconds in (10, 30, 59):
            clock.move_to(start + timedelta(seconds=seconds))
            with CaptureQueriesContext(connection) as queries:
                client.get(URL)
            assert not [q for q in queries.captured_queries if q["sql"].startswith('UPDATE "pmhub_apitoken"')]
        clock.move_to(start + timedelta(seconds=75))
        client.get(URL)
        assert ApiToken.objects.get(user=editor).last_used_at == start + timedelta(seconds=75)


def test_the_entry_is_read_with_the_throttle_counters_in_one_round_trip(editor, workspace, rf):
    """The throttle script also reads the token's entry; authentication then uses that read."""
    from tests.services import redis_available, require

    require(redis_available(), "Redis (the throttle script runs in Redis; the embedded default has no script)")
    from django.core.cache import cache
    from rest_framework.request import Request

    from bench.urls import DrfFloor
    from pmhub.api.authentication import ApiTokenAuthentication
    from pmhub.api.throttling import check_throttles_at
    from pmhub.tokencache import token_cache_key

    raw = make_token(user=editor, workspace=workspace)
    assert _client(raw).get(URL).status_code == 200  # cached from here on
    request = Request(rf.get("/", HTTP_AUTHORIZATION=f"Token {raw}"))
    view = DrfFloor()
    view.request, view.action, view.format_kwarg = request, "list", None
    check_throttles_at(view, request, authenticated=False)
    cache.delete(token_cache_key(hash_secret(raw)))  # authentication must not need a second read
    with CaptureQueriesContext(connection) as queries:
        user, token = ApiTokenAuthentication().authenticate(request)
    assert (user.pk, token.workspace_id) == (editor.pk, workspace.id)
    assert queries.captured_queries == []
