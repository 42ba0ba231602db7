"""No lost update, generated from the API router: every PUT/PATCH of every viewset updates an
object that carries a `version`, and for each one

- a stale version is a 409 with the current state, and nothing changes;
- a missing version is the same 409 (the client learns the version to send);
- the version just read succeeds and bumps the version by one.

The objects and valid bodies are the mass-assignment walk's (tests/security/massassign_<app>.py),
so a new viewset is covered as soon as it is mounted. The pages are in test_optimistic_locking_pages.py.
"""

import pytest
from django.db.models import F
from rest_framework.test import APIClient

from pmhub.utils import state_of

from .test_mass_assignment_api import ROUTES, World

pytestmark = pytest.mark.django_db

UPDATES = [r for r in ROUTES if r.action in ("update", "partial_update")]
# Updates of something that is not shared between people (nothing two people edit).
NOT_SHARED = {
    "notification-preference": "each person's own e-mail settings, keyed by kind",
}


def _row(obj) -> dict:
    return state_of(type(obj)._base_manager.get(pk=obj.pk))


def _send(world, body):
    return getattr(world.client, world.route.method)(world.url, body, format="json")


@pytest.fixture
def world_for(workspace, other_workspace, bridge):
    def make(route):
        client = APIClient()
        client.force_authenticate(bridge)
        return World(route, workspace, other_workspace, client)

    return make


def test_every_update_is_covered():
    assert {r.basename for r in UPDATES} - set(NOT_SHARED), "no versioned update found in the router"


@pytest.mark.parametrize("route", [r for r in UPDATES if r.basename not in NOT_SHARED], ids=lambda r: r.key)
def test_stale_or_missing_version_is_409_and_the_read_version_succeeds(route, world_for):
    world = world_for(route)
    model = world.model
    assert "version" in {f.name for f in model._meta.concrete_fields}, (
        f"{model._meta.label} is updated by {route.key} but has no version: two people editing it lose updates")
    body = {k: v for k, v in world.body.items() if k != "version"}
    # Someone else saved since we read version `read`.
    read = world.obj.version
    model._base_manager.filter(pk=world.obj.pk).update(version=F("version") + 1)
    before = _row(world.obj)

    stale = _send(world, {**body, "version": read})
    assert stale.status_code == 409, f"{route.key} stale: {stale.status_code} {stale.content[:300]!r}"
    assert stale.json()["code"] == "conflict" and stale.json()["current"]["version"] == read + 1
    assert _row(world.obj) == before, f"{route.key}: a stale write changed the row"

    missing = _send(world, body)
    assert missing.status_code == 409, f"{route.key} missing: {missing.status_code} {missing.content[:300]!r}"
    assert missing.json()["current"]["version"] == read + 1
    assert _row(world.obj) == before, f"{route.key}: a write without a version changed the row"

    fresh = _send(world, {**body, "version": read + 1})
    assert fresh.status_code == 200, f"{route.key} fresh: {fresh.status_code} {fresh.content[:500]!r}"
    assert model._base_manager.get(pk=world.obj.pk).version == read + 2
    if "version" in fresh.json():
        assert fresh.json()["version"] == read + 2


@pytest.mark.parametrize("route", [r for r in UPDATES if r.basename not in NOT_SHARED and r.action == "update"],
                         ids=lambda r: r.key)
def test_two_people_editing_from_the_same_read_one_wins_one_gets_409(route, world_for):
    world = world_for(route)
    body = {**world.body, "version": world.obj.version}
    first, second = _send(world, body), _send(world, body)
    assert (first.status_code, second.status_code) == (200, 409), f"{route.key}: {first.content[:300]!r}"
    assert second.json()["current"]["version"] == world.obj.version + 1
