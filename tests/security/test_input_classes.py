"""No input answers 500, generated over every write of the API.

Every POST/PUT/PATCH of the router (the routes and valid bodies of the mass-assignment walk,
tests/security/massassign_<app>.py) gets each class of inputclasses.py: far dates, huge numbers,
NaN/Infinity, oversize strings, NUL and lone surrogates, deep values in every field of its body and
of its serializer; deep JSON, NaN literals and bad encodings as the whole body; UTF-16, NUL bytes,
oversize fields and binary files to the file uploads. Any answer of 500 or more fails. Each probe
runs in a savepoint that is rolled back, so one write is probed many times from the same state.
The normal run sends the first value of every class in every field, and the class's further first
values (the ones that answered 500 before) in the fields of their kind (inputclasses.field_cases):
6 to 11 per field; INPUT_CLASSES=all sends all 23 everywhere.
"""

import json
import os

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from .inputclasses import FILES, RAW_BODIES, api_field_kind, field_cases
from .test_mass_assignment_api import ROUTES, World

pytestmark = pytest.mark.django_db

COUNTS: dict[str, int] = {}


def _serializer_fields(route) -> dict[str, str | None]:
    """{writable field: its kind (inputclasses.api_field_kind)}."""
    view = route.viewset()
    view.action, view.request, view.format_kwarg, view.kwargs = route.action, None, None, {}
    try:
        serializer = view.get_serializer_class()()
        return {name: api_field_kind(f) for name, f in serializer.fields.items() if not f.read_only}
    except Exception:  # an action that builds its serializer from the request: its body's fields stand
        return {}


def _send(world, client, **kwargs):
    with transaction.atomic():
        try:
            response = getattr(client, world.route.method)(world.url, **kwargs)
        finally:
            transaction.set_rollback(True)
    return response


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.key)
def test_write_answers_every_input_class_without_a_500(route, workspace, other_workspace, bridge):
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(bridge)
    world = World(route, workspace, other_workspace, client)
    failures, sent = [], 0
    if world.multipart:
        for cls, filename, content in FILES:
            from django.core.files.uploadedfile import SimpleUploadedFile

            body = {k: v for k, v in world.body.items() if not hasattr(v, "read")}
            file_key = next(k for k, v in world.body.items() if hasattr(v, "read"))
            body[file_key] = SimpleUploadedFile(filename, content, content_type="text/csv")
            response = _send(world, client, data=body, format="multipart")
            sent += 1
            if response.status_code >= 500:
                failures.append(f"{cls} ({filename}): {response.status_code} {response.content[:200]!r}")
    else:
        # A body field the serializer does not type (the action reads it itself) gets every value.
        fields = {**dict.fromkeys(world.body), **_serializer_fields(route)}
        for cls, name, value in field_cases(fields, every_value=os.environ.get("INPUT_CLASSES") == "all"):
            # Encoded here (ASCII escapes): the test client cannot encode a lone surrogate itself.
            raw = json.dumps({**world.body, name: value}, default=str).encode()
            response = _send(world, client, data=raw, content_type="application/json")
            sent += 1
            if response.status_code >= 500:
                failures.append(f"{cls} in {name}={str(value)[:40]!r}: {response.status_code} "
                                f"{response.content[:200]!r}")
    for cls, content_type, raw in RAW_BODIES:
        response = _send(world, client, data=raw, content_type=content_type)
        sent += 1
        if response.status_code >= 500:
            failures.append(f"{cls} body ({content_type}): {response.status_code} {response.content[:200]!r}")
    print(f"input classes: {route.key}: {sent} requests")
    assert not failures, f"{route.key}:\n" + "\n".join(failures)
