"""The discovery endpoints, the protocol's edges (unknown paths, methods, root search, trailing
slash, size), and the pure filter and PATCH modules with hand-made cases."""

import pytest

from scim.filters import FilterError, matches, parse
from scim.patch import PatchError, apply_patch

from .conftest import SCIM_JSON, user_body

pytestmark = pytest.mark.django_db


def test_service_provider_config_says_what_is_supported(scim):
    response = scim.get("ServiceProviderConfig")
    assert response.status_code == 200 and response["Content-Type"] == SCIM_JSON
    body = response.body
    assert body["patch"]["supported"] and body["filter"]["supported"] and body["etag"]["supported"]
    assert not body["bulk"]["supported"] and not body["sort"]["supported"]
    assert body["authenticationSchemes"][0]["type"] == "oauthbearertoken"


def test_resource_types_and_schemas(scim):
    types = scim.get("ResourceTypes").body
    assert [t["id"] for t in types["Resources"]] == ["User", "Group"] and types["totalResults"] == 2
    assert scim.get("ResourceTypes/User").body["endpoint"] == "/Users"
    assert scim.get("ResourceTypes/Widget").status_code == 404
    schemas = scim.get("Schemas").body["Resources"]
    user = next(s for s in schemas if s["name"] == "User")
    names = {a["name"]: a for a in user["attributes"]}
    assert set(names) == {"userName", "name", "displayName", "emails", "active", "groups"}
    assert names["userName"]["uniqueness"] == "server" and names["groups"]["mutability"] == "readOnly"
    assert scim.get("Schemas/urn:ietf:params:scim:schemas:core:2.0:Group").body["name"] == "Group"
    assert scim.get("Schemas/urn:nope").status_code == 404


def test_unknown_paths_methods_and_root_search(scim):
    assert scim.get("Widgets").status_code == 404
    assert scim.get("Users/a/b").status_code == 404
    assert scim.delete("Users").status_code == 405
    assert scim.put("Groups", {"displayName": "x"}).status_code == 405


def test_root_search_lists_users_then_groups_and_pages_across_them(scim):
    for name in ("ada", "bob"):
        scim.post("Users", user_body(f"{name}@acme.test"))
    scim.post("Groups", {"displayName": "Eng"})
    everything = scim.post(".search", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]}).body
    assert everything["totalResults"] == 3
    assert [r.get("userName") or r.get("displayName") for r in everything["Resources"]] == [
        "ada@acme.test", "bob@acme.test", "Eng"]
    page = scim.post(".search", {"startIndex": 2, "count": 2, "attributes": ["displayName"]}).body
    assert [r["id"] for r in page["Resources"]] == [r["id"] for r in everything["Resources"][1:]]
    assert page["Resources"][0].keys() == {"schemas", "id"}  # a user has no displayName here
    only_users = scim.post(".search", {"filter": 'userName sw "b"'}).body
    assert [r["userName"] for r in only_users["Resources"]] == ["bob@acme.test"]
    for text in ('userName eq', 'title eq "x"'):
        bad = scim.post(".search", {"filter": text})
        assert bad.status_code == 400 and bad.body["scimType"] == "invalidFilter"


def test_a_trailing_slash_is_accepted(scim):
    assert scim.get("/scim/v2/Users/").status_code == 200
    created = scim.post("/scim/v2/Users/", user_body())
    assert created.status_code == 201
    assert scim.get(f"/scim/v2/Users/{created.body['id']}/").status_code == 200


def test_a_body_over_the_limit_is_a_413(scim):
    response = scim.post("Users", {"userName": "x@y.test", "pad": "x" * 1_000_001})
    assert response.status_code == 413 and response.body["status"] == "413"
    assert "larger than 1,000,000 bytes" in response.body["detail"]


# --- pure modules ---------------------------------------------------------------------------------
def test_filter_parse_builds_the_tree_with_precedence():
    assert parse('userName eq "a" or externalId eq "b" and active eq true') == (
        "or", [("cmp", "username", "eq", "a"),
               ("and", [("cmp", "externalid", "eq", "b"), ("cmp", "active", "eq", True)])])
    assert parse('not (emails.value co "@x") and title pr') == (
        "and", [("not", ("cmp", "emails.value", "co", "@x")), ("pr", "title")])
    assert parse(r'displayName eq "say \"hi\""') == ("cmp", "displayname", "eq", 'say "hi"')


@pytest.mark.parametrize("text", ["", "userName", 'userName eq "a" garbage', "(", 'a eq "x', "x" * 2001,
                                  "(" * 30 + 'a eq "b"' + ")" * 30])
def test_filter_parse_refuses_what_is_not_a_filter(text):
    with pytest.raises(FilterError):
        parse(text)


def test_value_filters_match_elements_case_insensitively():
    tree = parse('type eq "WORK" and not (primary eq false)')
    assert matches(tree, {"type": "work", "primary": True})
    assert not matches(tree, {"type": "work", "primary": False})
    assert not matches(tree, {"type": "home"})
    assert matches(parse('value sw "ada"'), {"value": "Ada@x"})


CANON = {"emails": "emails", "name": "name", "givenname": "givenName", "active": "active", "members": "members"}
MULTI = {"emails", "members"}
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def _patch(doc, *ops):
    return apply_patch(doc, {"schemas": [PATCH], "Operations": list(ops)}, canonical=CANON, multi=MULTI)


def test_patch_operations_on_a_document():
    doc = {"name": {"givenName": "Ada"}, "emails": [{"value": "a@x", "type": "work"}], "members": [{"value": "1"}]}
    out = _patch(doc,
                 {"op": "add", "path": "members", "value": [{"value": "2"}, {"value": "1"}]},
                 {"op": "replace", "path": "name.givenname", "value": "Augusta"},
                 {"op": "add", "value": {"active": False}},
                 {"op": "remove", "path": 'members[value eq "1"]'},
                 {"op": "replace", "path": 'emails[type eq "work"].value', "value": "b@x"})
    assert out == {"name": {"givenName": "Augusta"}, "emails": [{"value": "b@x", "type": "work"}],
                   "members": [{"value": "2"}], "active": False}
    assert doc["members"] == [{"value": "1"}]  # the input is left unchanged


def test_patch_errors_name_their_scim_type():
    cases = [({"op": "add"}, "invalidValue"), ({"op": "remove", "path": "name[x eq 1]"}, "invalidPath"),
             ({"op": "replace", "path": "meta", "value": {}}, "mutability"),
             ({"op": "add", "path": "a b", "value": 1}, "invalidPath")]
    for op, scim_type in cases:
        with pytest.raises(PatchError) as err:
            _patch({}, op)
        assert err.value.scim_type == scim_type, op


def test_add_through_a_filter_that_matches_nothing_adds_a_value_like_entra_id_expects():
    out = _patch({"emails": [{"value": "a@x", "type": "home"}]},
                 {"op": "Add", "path": 'emails[type eq "work"].value', "value": "w@x"})
    assert out["emails"] == [{"value": "a@x", "type": "home"}, {"type": "work", "value": "w@x"}]
    with pytest.raises(PatchError) as err:
        _patch({"emails": []}, {"op": "replace", "path": 'emails[type eq "work"].value', "value": "w@x"})
    assert err.value.scim_type == "noTarget"


def test_providers_habits_okta_group_rename_with_its_id_and_entra_enterprise_attributes():
    doc = {"id": "g1", "displayName": "Old"}
    out = _patch(doc, {"op": "replace", "value": {"id": "g1", "displayName": "New",
                                                  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"]}})
    assert out == {"id": "g1", "displayName": "New"}
    ext = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    assert _patch({"id": "u1"}, {"op": "Add", "path": f"{ext}:department", "value": "Sales"},
                  {"op": "Replace", "value": {ext: {"employeeNumber": "7"}}}) == {"id": "u1"}
    with pytest.raises(PatchError) as err:
        _patch(doc, {"op": "replace", "value": {"id": "other"}})
    assert err.value.scim_type == "mutability"
