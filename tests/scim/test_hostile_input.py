"""Hostile input to /scim/v2/ (the input classes of tests/security/inputclasses.py, by hand):
never a 500, always the SCIM error schema, and nothing written by a refused request."""

import json

import pytest

from scim.models import ScimGroup, ScimUser

from .conftest import patch_body, user_body

pytestmark = pytest.mark.django_db

STRINGS = ["a\x00b", "x" * 100_000, "\ud800", "", " ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "<script>", "' OR 1=1 --"]
VALUES = [*STRINGS, 10**400, -1, 1e308, True, None, [], {}, [[[[]]]], {"a": {"b": {"c": {}}}}]


def _ok(response):
    assert response.status_code < 500, response.content[:300]
    if response.status_code >= 400:
        assert response.body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]


@pytest.mark.parametrize("field", ["userName", "externalId", "displayName", "name", "emails", "active"])
@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_every_user_field_takes_hostile_values_without_a_500(scim, field, value):
    body = user_body("ok@acme.test") | {field: value}
    _ok(scim.call("post", "Users", json.dumps(body, ensure_ascii=True) if isinstance(value, str) else body))


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_group_fields_and_patch_values_take_hostile_values(scim, value):
    _ok(scim.post("Groups", {"displayName": value}))
    _ok(scim.post("Groups", {"displayName": "G", "members": [{"value": value}]}))
    uid = scim.post("Users", user_body("p@acme.test")).body["id"]
    for path in ("userName", "active", "emails", 'emails[type eq "work"].value', "name.givenName", value):
        _ok(scim.patch(f"Users/{uid}", patch_body({"op": "replace", "path": path, "value": value})))


@pytest.mark.parametrize("params", [
    {"filter": 'userName eq "a\x00"'}, {"filter": "x" * 5000}, {"filter": "(" * 500},
    {"startIndex": "9" * 50}, {"count": "-5"}, {"count": "1e3"}, {"startIndex": "abc"},
    {"attributes": "a" * 10_000}, {"filter": 'userName gt "\U0010ffff"'}, {"filter": 'id eq "x"'},
])
def test_list_parameters_take_hostile_values(scim, params):
    _ok(scim.get("Users", **params))
    _ok(scim.get("Groups", **params))


@pytest.mark.parametrize("raw", ['{"userName": "\\ud800x@y.test"}', "[" * 10_000 + "]" * 10_000, '{"a": Infinity}',
                                 b"\xff\xfe", "", "null", '"text"'])
def test_bodies_that_are_not_storable_json_objects_are_a_400(scim, raw):
    response = scim.post("Users", raw)
    assert response.status_code == 400 and response.body["scimType"] == "invalidSyntax"
    assert not ScimUser.objects.exists() and not ScimGroup.objects.exists()
