"""Identical creates at the same moment give the answers single requests would: never a 500.

Generated: every POST of the API whose object's model has a unique rule (a unique field, a
UniqueConstraint, partial ones included, found by introspecting the models) is fired three times
at once from three threads, each on its own PostgreSQL connection, with the valid body of the
mass-assignment walk (tests/security/massassign_<app>.py). Each answer must be a success or a
400; a 400 must equal the answer the same body gets when it is sent once more afterwards (a
single duplicate). Unique conflicts become that 400 in the service (pmhub.integrity.duplicate_as)
or in the API's exception handler; workspaces retry with the next free slug.
"""

import json
import threading

import pytest
from django.db import connections, models
from django.urls import reverse
from rest_framework.test import APIClient

from tests.security.massassign import api_write_routes, load_writes
from tests.security.matrix import Route, load_registry
from tests.services import on_postgres, require

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

RACERS = 3
WRITES = load_writes()
MATRIX = load_registry()


def unique_rules(model) -> list[str]:
    rules = [c.name for c in model._meta.constraints if isinstance(c, models.UniqueConstraint)]
    rules += [",".join(t) for t in model._meta.unique_together]
    return rules + [f.name for f in model._meta.concrete_fields if f.unique and not f.primary_key]


def _routes():
    routes = []
    for route in api_write_routes():
        entry = WRITES.get(route.basename)
        if route.method != "post" or route.detail or entry is None or route.action in entry.exempt:
            continue
        if entry.body(route.action) is None or route.action in entry.multipart:
            continue
        routes.append(route)
    return routes


ROUTES = _routes()


def _fire_together(url, body, user):
    barrier = threading.Barrier(RACERS)
    answers = []

    def racer():
        try:
            client = APIClient()
            client.force_authenticate(user)
            barrier.wait(timeout=10)
            response = client.post(url, body, format="json")
            answers.append((response.status_code, response.content))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=racer) for _ in range(RACERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return answers


def _errors(content: bytes):
    try:
        return json.loads(content).get("errors")
    except ValueError:
        return content


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.key)
def test_identical_creates_at_the_same_moment_are_answered_like_single_ones(route, workspace, admin):
    require(on_postgres(), "PostgreSQL")
    entry = WRITES[route.basename]
    build = entry.builds.get(route.action) or entry.build or getattr(MATRIX.api.get(route.basename), "build", None)
    if not isinstance(MATRIX.api.get(route.basename), Route) and build is None:
        pytest.skip("no builder")
    obj = build(workspace)
    if not unique_rules(type(obj)):
        pytest.skip(f"{type(obj).__name__} has no unique rule")
    body = entry.body(route.action)(obj)
    url = reverse(route.url_name)

    answers = _fire_together(url, body, admin)
    single = APIClient()
    single.force_authenticate(admin)
    again = single.post(url, body, format="json")

    statuses = sorted(s for s, _c in answers)
    print(f"race {route.key} ({type(obj).__name__}: {unique_rules(type(obj))}): {statuses}, then {again.status_code}")
    assert len(answers) == RACERS
    assert all(s < 500 for s in statuses), [c[:300] for s, c in answers if s >= 500]
    assert all(200 <= s < 300 or s == 400 for s in statuses), statuses
    for status, content in answers:
        if status == 400:
            assert again.status_code == 400, (content[:300], again.content[:300])
            assert _errors(content) == _errors(again.content), (content[:300], again.content[:300])
