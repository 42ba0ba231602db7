"""Generated mass-assignment walk: every POST/PUT/PATCH of every API viewset, with hostile values
for every protected field mixed into a valid body.

Routes come from the API router, so a new viewset or @action is covered as soon as it is mounted;
a write without a body in tests/security/massassign_<app>.py fails with a message saying what to add.

The actor (`bridge`) is an admin of both workspaces and signs in with a session, so every id of the
other workspace is visible to them: only the write's own checks keep the tenants apart. Each write
must refuse a hostile field (400 naming it, or 404/409, and nothing changes) or ignore it (2xx, the
protected columns unchanged and none holding our value), and nothing of the other workspace changes.
Probes run inside a savepoint that is rolled back, so a non-idempotent write can be probed twice.
"""

from datetime import datetime

import pytest
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from rest_framework.test import APIClient

from .massassign import (
    ALWAYS_CHANGES,
    HOSTILE_ID,
    RESPONSE_COMPUTED,
    api_write_routes,
    foreign_world,
    guarded_snapshot,
    hostile_by_column,
    hostile_fields,
    landed,
    load_writes,
    tenant_rows,
)
from .matrix import Route, load_registry

pytestmark = pytest.mark.django_db

MATRIX = load_registry()
WRITES = load_writes()
ROUTES = api_write_routes()
REFUSED = (400, 404, 409)


def _missing(route) -> str:
    return (f"API write {route.key} ({route.method.upper()} {route.url_name}) has no body in the mass-assignment "
            f"walk. Add WRITES[{route.basename!r}] = Write(bodies={{{route.action!r}: lambda obj: {{...}}}}) to "
            f"tests/security/massassign_<app>.py, or Write(exempt={{{route.action!r}: 'why'}}).")


# --- the registry itself -------------------------------------------------------------------------
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.key)
def test_every_api_write_is_in_the_walk(route):
    entry = WRITES.get(route.basename)
    assert entry is not None and (entry.body(route.action) or route.action in entry.exempt), _missing(route)


def test_walk_has_no_stale_entries():
    offered = {(r.basename, r.action) for r in ROUTES}
    stale = {(b, a) for b, e in WRITES.items() for a in [*e.bodies, *e.exempt, *e.builds, *e.changes]
             if (b, a) not in offered}
    assert not stale, f"Entries for writes that no longer exist: {sorted(stale)}"


# --- the walk --------------------------------------------------------------------------------------
class World:
    """The objects, client and helpers of one walked write."""

    def __init__(self, route, workspace, other_workspace, client):
        self.route, self.workspace, self.other, self.client = route, workspace, other_workspace, client
        self.entry = WRITES[route.basename]
        if route.action in self.entry.exempt:
            pytest.skip(f"exempt: {self.entry.exempt[route.action]}")
        if self.entry.body(route.action) is None:
            pytest.fail(_missing(route))
        self.obj = self._build()
        self.body = self.entry.body(route.action)(self.obj)
        self.multipart = route.action in self.entry.multipart
        self.model = type(self.obj)
        self.url = self._url()

    def _build(self):
        build = self.entry.builds.get(self.route.action) or self.entry.build
        if build is None:
            matrix = MATRIX.api.get(self.route.basename)
            assert isinstance(matrix, Route), (f"{self.route.key}: the tenancy matrix has no builder for "
                                               f"{self.route.basename!r}; give Write(build=...).")
            build = matrix.build
        return build(self.workspace)

    def _url(self):
        if not self.route.detail:
            return reverse(self.route.url_name)
        viewset = self.route.viewset
        lookup = viewset.lookup_field
        return reverse(self.route.url_name, kwargs={viewset.lookup_url_kwarg or lookup: getattr(self.obj, lookup)})

    def send(self, extra: dict, body=None):
        payload = {**extra, **self.body, **(body or {})}  # the valid body wins over hostile values
        for value in payload.values():
            if hasattr(value, "seek"):
                value.seek(0)
        return getattr(self.client, self.route.method)(
            self.url, payload, format="multipart" if self.multipart else "json")

    def state(self):
        """(rows of both workspaces, rows of the other one)."""
        return tenant_rows(self.workspace, self.other), tenant_rows(self.other)

    def probe(self, extra: dict, before, check=None, body=None):
        """Send and roll back. A refusal must have changed nothing, anywhere; a success nothing of the
        other workspace, and `check(response, extra)` runs on it before the rollback."""
        where = f"{self.route.key} with {sorted(extra)}"
        with transaction.atomic():
            response = self.send(extra, body)
            assert response.status_code < 500, f"{where}: {response.status_code} {response.content[:500]!r}"
            if response.status_code >= 300:
                assert tenant_rows(self.workspace, self.other) == before[0], (
                    f"{where} was refused ({response.status_code}) but changed rows")
            else:
                assert tenant_rows(self.other) == before[1], f"{where} changed rows of the other workspace"
                if check is not None:
                    check(response, extra)
            transaction.set_rollback(True)
        if response.status_code >= 300:
            assert response.status_code in REFUSED, f"{where}: {response.status_code} {response.content[:300]!r}"
            if response.status_code == 400:
                assert response.json()["errors"], f"{where}: 400 without field errors"
        return response


def _walk(world, hostile, check):
    """Drop what the write refuses until the rest passes (and `check` accepts what it did)."""
    before = world.state()
    remaining = dict(hostile)
    for _ in range(len(hostile) + 1):
        response = world.probe(remaining, before, check)
        if response.status_code < 300:
            return remaining
        named = set(response.json().get("errors") or {}) & set(remaining)
        if response.status_code == 400 and named:
            remaining = {k: v for k, v in remaining.items() if k not in named}
            continue
        # The answer names no field we sent: find the refused ones one at a time.
        refused = {k for k, v in remaining.items() if world.probe({k: v}, before).status_code >= 300}
        assert refused, f"{world.route.key}: refused with all hostile fields, accepted with each one alone"
        remaining = {k: v for k, v in remaining.items() if k not in refused}
    response = world.probe({}, before)
    pytest.fail(f"{world.route.key}: the valid body alone is refused: {response.status_code} {response.content!r}")


def _check_response(world, response, sent):
    body = response.json() if response.content and response["Content-Type"].startswith("application/json") else {}
    for key, value in RESPONSE_COMPUTED.get(world.model._meta.label, {}).items():
        if key in sent and isinstance(body, dict) and key in body:
            assert body[key] != value, f"{world.route.key}: the response echoes our {key}={value!r}"
    return body


def _check_created(world, body, sent):
    created = world.model._base_manager.filter(pk=body.get("id")).first()
    assert created is not None, f"{world.route.key}: no {world.model.__name__} with the id answered ({body})"
    assert created.pk != HOSTILE_ID
    for column, value in hostile_by_column(world.model, sent).items():
        stored = (set(getattr(created, column).values_list("pk", flat=True))
                  if column in {f.name for f in world.model._meta.many_to_many} else getattr(created, column))
        assert not landed(stored, value), f"{world.route.key} stored our {column}={value!r}"


def _check_updated(world, before, sent):
    after = guarded_snapshot(world.obj)
    by_design = world.entry.changes.get(world.route.action, set())
    hostile = hostile_by_column(world.model, sent)
    for column, old in before.items():
        new = after[column]
        if new == old:
            continue
        assert column in ALWAYS_CHANGES | by_design, f"{world.route.key} changed {column}: {old!r} -> {new!r}"
        # A column the action sets by design may take our value by chance (approve sets "approved"),
        # but never our year-2000 timestamps or ids.
        if column not in by_design or isinstance(new, datetime) or column.endswith("_id"):
            assert not landed(new, hostile.get(column)), f"{world.route.key} stored our {column}={new!r}"


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.key)
def test_write_refuses_or_ignores_protected_fields(route, workspace, other_workspace, bridge, outsider):
    foreign = foreign_world(other_workspace)
    client = APIClient()
    client.force_authenticate(bridge)
    world = World(route, workspace, other_workspace, client)
    hostile = hostile_fields(world.model, foreign=foreign, other_user=outsider)
    before = None if route.action == "create" else guarded_snapshot(world.obj)

    def check(response, sent):
        body = _check_response(world, response, sent)
        if before is None:
            _check_created(world, body, sent)
        else:
            _check_updated(world, before, sent)
        assert not world.model._base_manager.filter(pk=HOSTILE_ID).exists()

    _walk(world, hostile, check)


# --- a write naming another workspace's parent -------------------------------------------------------
def _parent_keys(model, body: dict) -> dict[str, str]:
    """{body key: label of the model it names} for the relations a list-level write is made under."""
    keys = {}
    for f in [*model._meta.concrete_fields, *model._meta.many_to_many]:
        if f.is_relation and f.related_model._meta.label != settings.AUTH_USER_MODEL:
            for key in {f.name, getattr(f, "attname", f.name)} & set(body):
                keys[key] = f.related_model._meta.label
    return keys


LIST_WRITES = [r for r in ROUTES if not r.detail]


@pytest.mark.parametrize("route", LIST_WRITES, ids=lambda r: r.key)
def test_write_under_another_workspaces_parent_is_refused_like_a_missing_one(route, workspace, other_workspace,
                                                                              bridge, api_as):
    """With a token of workspace A, the other workspace does not exist: naming its product (KPI,
    release, ...) is refused exactly like an id that exists nowhere, and nothing is written."""
    foreign = foreign_world(other_workspace)
    world = World(route, workspace, other_workspace, api_as(bridge, workspace))
    parents = _parent_keys(world.model, world.body)
    if not parents:
        pytest.skip(f"{route.key} names no parent object")
    before = world.state()
    for key, label in parents.items():
        theirs = world.probe({}, before, body={key: foreign[label].pk})
        missing = world.probe({}, before, body={key: HOSTILE_ID})
        assert theirs.status_code in REFUSED, f"{route.key} with their {key}: {theirs.status_code}"
        assert (theirs.status_code, sorted(theirs.json()["errors"])) == (
            missing.status_code, sorted(missing.json()["errors"])), (
            f"{route.key}: their {key} answers {theirs.status_code} {theirs.json()}, a missing one "
            f"{missing.status_code} {missing.json()}: the answer tells which ids exist in other workspaces")
