"""Writes that read their object without the detail prefetches (ScopedViewSet.plain_object_actions,
decision 2230): the checks come first as before, a bad body costs less, and every answer is the one
the full detail read gave.

For every such write of the router (the routes and valid bodies of the mass-assignment walk):
- a body that cannot be parsed is 404 for a member of another workspace and 403 for a viewer
  (tenancy and role are checked before the body is read), 400 for an admin;
- that 400 makes fewer queries than over the full detail read, and the valid body's answer no more
  (the mark pays: the answer is read afresh anyway);
- the valid body answers the same status and JSON as over the full detail read (the clock frozen,
  both sends from the same state, rolled back).
"""

import json
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from pmhub.models import Role
from tests.factories import MembershipFactory, UserFactory

from .massassign import api_write_routes
from .test_mass_assignment_api import World

pytestmark = pytest.mark.django_db

PLAIN = [r for r in api_write_routes() if r.action in getattr(r.viewset, "plain_object_actions", ())]
NOW = datetime(2026, 11, 18, 10, 30, tzinfo=UTC)
VALIDATES_FIRST = {"release.ship"}


def test_the_plain_writes_are_found():
    # The walk below is generated from the marks: it must see them (update, move, scope, ...).
    assert len(PLAIN) >= 20, [r.key for r in PLAIN]


def _client(user):
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    return client


def _sequences() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT schemaname || '.' || sequencename, last_value FROM pg_sequences")
        return dict(cursor.fetchall())


def _send(world, client, **kwargs):
    """(status, content, queries) of one request, rolled back, its sequences too (a rollback keeps
    what nextval took: the second of two sends would otherwise answer the next id)."""
    before = _sequences()
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        try:
            response = getattr(client, world.route.method)(world.url, **kwargs)
        finally:
            transaction.set_rollback(True)
    with connection.cursor() as cursor:
        for name, value in _sequences().items():
            if value != before.get(name):
                cursor.execute("SELECT setval(%s, %s, %s)", [name, before.get(name) or 1, before.get(name) is not None])
    return response.status_code, response.content, len(queries)


def _member(workspace, role, email):
    user = UserFactory(email=email)
    MembershipFactory(user=user, workspace=workspace, role=role)
    return user


@pytest.mark.parametrize("route", PLAIN, ids=lambda r: r.key)
def test_a_plain_write_checks_first_and_answers_as_the_full_read(route, workspace, other_workspace, bridge,
                                                                  monkeypatch):
    world = World(route, workspace, other_workspace, _client(bridge))
    broken = {"data": b'{"version": ', "content_type": "application/json"}
    raw = json.dumps(world.body, default=str).encode()
    # An action that validates its body before reading its object answers a broken body 400 to
    # anyone, as it did before the mark: its checks are shown with the valid body.
    checked = {"data": raw, "content_type": "application/json"} if route.key in VALIDATES_FIRST else broken

    stranger = _member(other_workspace, Role.ADMIN, "stranger@globex.test")
    assert _send(world, _client(stranger), **checked)[0] == 404
    viewer = _member(workspace, Role.VIEWER, "viewer@acme.test")
    assert _send(world, _client(viewer), **checked)[0] == 403

    with time_machine.travel(NOW, tick=False):
        _send(world, world.client, **broken)  # the caller's workspaces read and cached, as for the others
        plain_bad = _send(world, world.client, **broken)
        _send(world, world.client, data=raw, content_type="application/json")  # the caches a write fills
        plain_good = _send(world, world.client, data=raw, content_type="application/json")
        monkeypatch.setattr(route.viewset, "plain_object_actions", frozenset())
        full_bad = _send(world, world.client, **broken)
        full_good = _send(world, world.client, data=raw, content_type="application/json")

    assert plain_bad[0] == full_bad[0] == 400
    assert plain_bad[1] == full_bad[1]
    assert plain_good[0] < 500, plain_good[:2]
    assert plain_good[:2] == full_good[:2]
    # Never more queries; fewer for the 400 (or, where the body's 400 comes before any read, for the answer).
    assert plain_good[2] <= full_good[2], f"{route.key}: {plain_good[2]} queries, {full_good[2]} over the full read"
    if route.key in VALIDATES_FIRST:
        assert plain_good[2] < full_good[2], f"{route.key}: {plain_good[2]} queries, {full_good[2]} over the full read"
    else:
        assert plain_bad[2] < full_bad[2], f"{route.key}: 400 in {plain_bad[2]} queries, {full_bad[2]} over the full read"
