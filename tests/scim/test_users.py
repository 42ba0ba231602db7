"""SCIM Users through /scim/v2/: create (new account or linked), read, list and filter, replace,
patch, deactivate and delete, with what each does to the PMHub account and membership."""

import pytest

from backlog import services as backlog_services
from backlog.models import Comment, Story
from pmhub.models import Activity, ApiToken, Membership, Role, User
from scim.models import ScimUser
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory, make_token
from tests.roadmaps.factories import ProductFactory

from .conftest import SCIM_JSON, patch_body, user_body

pytestmark = pytest.mark.django_db


def _create(scim, user_name="ada@acme.test", **extra):
    response = scim.post("Users", user_body(user_name, **extra))
    assert response.status_code == 201, response.body
    return response.body


def test_scim_user_create_makes_an_account_and_a_membership_with_the_default_role(scim, workspace):
    response = scim.post("Users", user_body("ada@acme.test", externalId="00u1"))
    assert response.status_code == 201
    assert response["Content-Type"] == SCIM_JSON
    body = response.body
    assert body["userName"] == "ada@acme.test" and body["externalId"] == "00u1" and body["active"] is True
    assert body["meta"]["version"] == 'W/"1"' and response["ETag"] == 'W/"1"'
    assert response["Location"] == body["meta"]["location"] == f"http://testserver/scim/v2/Users/{body['id']}"
    user = User.objects.get(email="ada@acme.test")
    assert user.name == "Ada Lovelace" and not user.has_usable_password() and user.is_active
    assert Membership.objects.get(user=user, workspace=workspace).role == Role.VIEWER
    assert Activity.objects.filter(workspace=workspace, verb="provisioned member", target_id=user.pk).exists()


def test_creating_a_user_whose_email_has_an_account_links_it(scim, workspace):
    existing = UserFactory(email="grace@navy.test", name="Grace Hopper")
    other = WorkspaceFactory()
    MembershipFactory(user=existing, workspace=other, role=Role.EDITOR)
    body = _create(scim, "ghopper", email="Grace@Navy.test")
    assert User.objects.filter(email__iexact="grace@navy.test").count() == 1
    identity = ScimUser.objects.get(uid=body["id"])
    assert identity.user == existing
    assert Membership.objects.get(user=existing, workspace=workspace).role == Role.VIEWER
    assert Membership.objects.get(user=existing, workspace=other).role == Role.EDITOR  # untouched
    existing.refresh_from_db()
    assert existing.name == "Grace Hopper"  # an account shared with another workspace keeps its name
    assert Activity.objects.filter(workspace=workspace, verb="linked account (SCIM)").exists()


def test_linking_an_existing_member_keeps_their_role(scim, workspace, editor):
    _create(scim, "editor", email=editor.email)
    assert Membership.objects.get(user=editor, workspace=workspace).role == Role.EDITOR


def test_the_same_username_twice_is_a_409_uniqueness(scim):
    _create(scim, "ada@acme.test")
    response = scim.post("Users", user_body("ADA@acme.test", email="other@acme.test"))
    assert response.status_code == 409
    assert response.body["scimType"] == "uniqueness"
    assert response.body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]


def test_the_same_account_twice_in_a_workspace_is_a_409(scim):
    _create(scim, "ada", email="ada@acme.test")
    response = scim.post("Users", user_body("ada2", email="ada@acme.test"))
    assert response.status_code == 409 and response.body["scimType"] == "uniqueness"
    assert ScimUser.objects.count() == 1


@pytest.mark.parametrize(("body", "words"), [
    ({"emails": [{"value": "x@y.test"}]}, "userName is required"),
    ({"userName": 5, "emails": [{"value": "x@y.test"}]}, "userName must be a string"),
    ({"userName": "noemail"}, "needs an e-mail"),
    ({"userName": "x", "emails": [{"value": "not an address"}]}, "not a valid e-mail"),
    ({"userName": "x", "emails": "x@y.test"}, "emails must be a list"),
    ({"userName": "x@y.test", "active": "maybe"}, "active must be true or false"),
    ({"userName": "x" * 300 + "@y.test"}, "longer than 255"),
    ({"userName": "x" * 64 + "@" + ".".join(["d" * 60] * 3) + ".example"}, "longer than 254"),
    ({"userName": "x@y.test", "name": "Ada"}, "name must be an object"),
    ({"userName": "x", "emails": [{"value": "a@y.test", "primary": True}, {"value": "b@y.test", "primary": True}]},
     "At most one e-mail can be primary"),
])
def test_bad_user_input_is_a_400_in_the_scim_error_schema(scim, body, words):
    response = scim.post("Users", body)
    assert response.status_code == 400
    assert response.body["scimType"] == "invalidValue" and response.body["status"] == "400"
    assert words in response.body["detail"]
    assert not ScimUser.objects.exists()
    # ... and the same request made valid is accepted (the refusal's acceptance twin)
    assert scim.post("Users", user_body("valid@acme.test")).status_code == 201


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", '{"userName": NaN}'])
def test_a_body_that_is_not_a_json_object_is_a_400_invalid_syntax(scim, raw):
    response = scim.post("Users", raw)
    assert response.status_code == 400 and response.body["scimType"] == "invalidSyntax"


def test_get_returns_the_user_with_its_etag_and_groups(scim):
    body = _create(scim)
    group = scim.post("Groups", {"displayName": "Eng", "members": [{"value": body["id"]}]}).body
    response = scim.get(f"Users/{body['id']}")
    assert response.status_code == 200 and response["ETag"] == 'W/"1"'
    assert response.body["groups"] == [{"value": group["id"], "$ref": f"http://testserver/scim/v2/Groups/{group['id']}",
                                        "display": "Eng"}]


def test_get_with_attributes_and_excluded_attributes(scim):
    body = _create(scim)
    only = scim.get(f"Users/{body['id']}", attributes="userName,name.givenName").body
    assert set(only) == {"schemas", "id", "userName", "name"} and only["name"] == {"givenName": "Ada"}
    without = scim.get(f"Users/{body['id']}", excludedAttributes="emails").body
    assert "emails" not in without and "userName" in without


def test_unknown_or_malformed_ids_are_a_404(scim):
    assert scim.get("Users/8d0e2a4c-0000-4000-8000-000000000000").status_code == 404
    response = scim.get("Users/not-a-uuid")
    assert response.status_code == 404 and response.body["detail"] == "No such user in this workspace."


@pytest.mark.parametrize(("filter_", "expected"), [
    ('userName eq "ada@acme.test"', ["ada@acme.test"]),
    ('USERNAME EQ "ADA@ACME.TEST"', ["ada@acme.test"]),
    ('userName co "race"', ["grace@navy.test"]),
    ('userName sw "ali"', ["alice"]),
    ('emails co "navy"', ["grace@navy.test"]),
    ('emails.value eq "alice@wonder.test"', ["alice"]),
    ('externalId eq "ext-2"', ["grace@navy.test"]),
    ('externalId sw "ext"', ["ada@acme.test", "grace@navy.test"]),
    ('userName ew ".test" and not (externalId eq "ext-1")', ["grace@navy.test"]),
    ('userName eq "alice" or externalId eq "ext-1"', ["ada@acme.test", "alice"]),
    ('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "alice"', ["alice"]),
    ('externalId pr', ["ada@acme.test", "grace@navy.test"]),
    ('active eq false', []),
    ('userName eq "nobody"', []),
])
def test_list_filters_on_username_emails_and_external_id(scim, filter_, expected):
    _create(scim, "ada@acme.test", externalId="ext-1")
    _create(scim, "grace@navy.test", externalId="ext-2")
    _create(scim, "alice", email="alice@wonder.test")
    response = scim.get("Users", filter=filter_)
    assert response.status_code == 200, response.body
    assert response.body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:ListResponse"]
    assert sorted(r["userName"] for r in response.body["Resources"]) == expected
    assert response.body["totalResults"] == len(expected)


@pytest.mark.parametrize(("filter_", "words"), [
    ('userName eq', "ends too early"),
    ('userName like "a"', "Unknown operator"),
    ('title eq "x"', "not supported"),
    ('userName eq "a" and', "ends too early"),
    ('(userName eq "a"', "Expected ')'"),
    ('active eq "yes"', "true or false"),
])
def test_a_bad_filter_is_a_400_invalid_filter(scim, filter_, words):
    response = scim.get("Users", filter=filter_)
    assert response.status_code == 400 and response.body["scimType"] == "invalidFilter"
    assert words in response.body["detail"]


def test_list_pages_with_start_index_and_count(scim, django_assert_max_num_queries):
    names = [f"user{i}@acme.test" for i in range(7)]
    for name in names:
        _create(scim, name)
    with django_assert_max_num_queries(8):
        page = scim.get("Users", startIndex=3, count=2).body
    assert page["totalResults"] == 7 and page["startIndex"] == 3 and page["itemsPerPage"] == 2
    assert [r["userName"] for r in page["Resources"]] == names[2:4]
    assert scim.get("Users", count=0).body["Resources"] == []
    assert scim.get("Users", startIndex=0).body["startIndex"] == 1
    assert scim.get("Users", count="lots").status_code == 400


def test_search_endpoint_lists_with_the_query_in_the_body(scim):
    _create(scim, "ada@acme.test")
    _create(scim, "grace@navy.test")
    response = scim.post("Users/.search", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                                           "filter": 'userName sw "grace"', "attributes": ["userName"]})
    assert response.status_code == 200
    assert response.body["Resources"] == [{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                                           "id": response.body["Resources"][0]["id"],
                                           "userName": "grace@navy.test"}]


def test_scim_user_replace_updates_the_workspace_view_and_an_exclusive_account(scim):
    body = _create(scim, "ada@acme.test", externalId="e1")
    new = user_body("ada.lovelace", email="ada@analytical.test", externalId="e2", displayName="Countess Ada")
    response = scim.put(f"Users/{body['id']}", new)
    assert response.status_code == 200, response.body
    assert response.body["userName"] == "ada.lovelace" and response.body["meta"]["version"] == 'W/"2"'
    identity = ScimUser.objects.select_related("user").get(uid=body["id"])
    assert identity.external_id == "e2" and identity.display_name == "Countess Ada"
    assert identity.user.email == "ada@analytical.test" and identity.user.name == "Countess Ada"


def test_replace_cannot_change_the_email_of_an_account_shared_with_another_workspace(scim):
    shared = UserFactory(email="shared@acme.test")
    MembershipFactory(user=shared, workspace=WorkspaceFactory(), role=Role.VIEWER)
    body = _create(scim, "shared", email="shared@acme.test")
    response = scim.put(f"Users/{body['id']}", user_body("shared", email="takeover@evil.test"))
    assert response.status_code == 400 and response.body["scimType"] == "mutability"
    shared.refresh_from_db()
    assert shared.email == "shared@acme.test"
    # the same replace keeping the address is accepted
    assert scim.put(f"Users/{body['id']}", user_body("shared2", email="shared@acme.test")).status_code == 200


def test_replace_with_a_stale_if_match_is_a_412_and_changes_nothing(scim):
    body = _create(scim)
    response = scim.put(f"Users/{body['id']}", user_body("new@acme.test"), headers={"If-Match": 'W/"7"'})
    assert response.status_code == 412
    assert ScimUser.objects.get(uid=body["id"]).user_name == "ada@acme.test"
    ok = scim.put(f"Users/{body['id']}", user_body("new@acme.test"), headers={"If-Match": 'W/"1"'})
    assert ok.status_code == 200


def _member_with_things(scim, workspace):
    """A provisioned editor who made a story, owns it, commented on it and holds an API token."""
    body = _create(scim, "leaver@acme.test")
    user = User.objects.get(email="leaver@acme.test")
    Membership.objects.filter(user=user, workspace=workspace).update(role=Role.EDITOR)
    product = ProductFactory(workspace=workspace)
    story = backlog_services.story_create(actor=user, product=product, title="Leaver's story")
    Story.objects.filter(pk=story.pk).update(assignee=user)
    backlog_services.comment_create(actor=user, story=story, body="My last words")
    raw = make_token(user=user, workspace=workspace)
    return body, user, story, raw


@pytest.mark.parametrize("how", ["patch", "put", "delete"])
def test_deprovisioning_removes_membership_revokes_tokens_and_deactivates_but_keeps_content(
        scim, workspace, client, how):
    body, user, story, raw = _member_with_things(scim, workspace)
    assert client.get("/api/v1/workspaces/", HTTP_AUTHORIZATION=f"Token {raw}").status_code == 200
    if how == "patch":
        response = scim.patch(f"Users/{body['id']}", patch_body({"op": "replace", "path": "active", "value": False}))
        assert response.status_code == 200 and response.body["active"] is False
    elif how == "put":
        assert scim.put(f"Users/{body['id']}", user_body("leaver@acme.test", active=False)).status_code == 200
    else:
        assert scim.delete(f"Users/{body['id']}").status_code == 204
        assert scim.get(f"Users/{body['id']}").status_code == 404
    assert not Membership.objects.filter(user=user, workspace=workspace).exists()
    assert ApiToken.objects.get(user=user).revoked_at is not None
    assert client.get("/api/v1/workspaces/", HTTP_AUTHORIZATION=f"Token {raw}").status_code == 401
    user.refresh_from_db()
    assert user.is_active is False  # no other workspace left
    story.refresh_from_db()  # content stays, attributed to them
    assert story.assignee == user
    assert Comment.objects.get(story=story).author == user
    assert Activity.objects.filter(verb__icontains="created", actor=user, target_id=story.pk).exists()
    assert Activity.objects.filter(workspace=workspace, verb="deprovisioned member", target_id=user.pk).exists()


def test_deactivating_keeps_the_account_active_when_another_workspace_has_them(scim, workspace):
    other = WorkspaceFactory()
    body = _create(scim, "both@acme.test")
    user = User.objects.get(email="both@acme.test")
    MembershipFactory(user=user, workspace=other, role=Role.EDITOR)
    other_token = make_token(user=user, workspace=other)
    scim.patch(f"Users/{body['id']}", patch_body({"op": "replace", "value": {"active": False}}))
    user.refresh_from_db()
    assert user.is_active and Membership.objects.filter(user=user, workspace=other).exists()
    assert not Membership.objects.filter(user=user, workspace=workspace).exists()
    assert ApiToken.objects.get(user=user, workspace=other).revoked_at is None
    assert other_token


def test_reactivating_gives_the_membership_back_and_the_account(scim, workspace):
    body = _create(scim)
    scim.patch(f"Users/{body['id']}", patch_body({"op": "Replace", "path": "active", "value": "False"}))
    response = scim.patch(f"Users/{body['id']}", patch_body({"op": "replace", "path": "active", "value": True}))
    assert response.body["active"] is True
    user = User.objects.get(email="ada@acme.test")
    assert user.is_active and Membership.objects.get(user=user, workspace=workspace).role == Role.VIEWER


def test_creating_an_inactive_user_gives_no_membership(scim, workspace):
    _create(scim, "later@acme.test", active=False)
    user = User.objects.get(email="later@acme.test")
    assert not Membership.objects.filter(user=user).exists() and not user.is_active


def test_scim_user_patch_adds_replaces_and_removes_attributes(scim):
    body = _create(scim, externalId="e1")
    response = scim.patch(f"Users/{body['id']}", patch_body(
        {"op": "replace", "path": "name.givenName", "value": "Augusta"},
        {"op": "add", "path": "displayName", "value": "Ada L."},
        {"op": "add", "path": "emails", "value": [{"value": "ada@home.test", "type": "home"}]},
        {"op": "replace", "path": 'emails[type eq "work"].value', "value": "ada@work.test"},
        {"op": "remove", "path": "externalId"},
    ))
    assert response.status_code == 200, response.body
    out = response.body
    assert out["name"]["givenName"] == "Augusta" and out["displayName"] == "Ada L."
    assert out["emails"] == [{"value": "ada@work.test", "type": "work", "primary": True},
                             {"value": "ada@home.test", "type": "home"}]
    assert "externalId" not in out
    assert User.objects.get(pk=ScimUser.objects.get(uid=body["id"]).user_id).email == "ada@work.test"


@pytest.mark.parametrize(("ops", "scim_type"), [
    ([{"op": "jump", "path": "active", "value": True}], "invalidSyntax"),
    ([{"op": "remove"}], "noTarget"),
    ([{"op": "replace", "path": "id", "value": "x"}], "mutability"),
    ([{"op": "replace", "path": "emails[type eq \"fax\"].value", "value": "a@b.test"}], "noTarget"),
    ([{"op": "replace", "path": "emails[type eq].value", "value": "a@b.test"}], "invalidFilter"),
    ([{"op": "replace", "path": "userName", "value": None}], "invalidValue"),
    ([], "invalidSyntax"),
])
def test_bad_patches_are_a_400_with_the_scim_type_and_change_nothing(scim, ops, scim_type):
    body = _create(scim)
    response = scim.patch(f"Users/{body['id']}", patch_body(*ops))
    assert response.status_code == 400 and response.body["scimType"] == scim_type, response.body
    assert ScimUser.objects.get(uid=body["id"]).version == 1


def test_a_patch_without_the_patchop_schema_is_refused(scim):
    body = _create(scim)
    response = scim.patch(f"Users/{body['id']}", {"Operations": [{"op": "replace", "path": "active",
                                                                    "value": False}]})
    assert response.status_code == 400 and response.body["scimType"] == "invalidSyntax"
    assert ScimUser.objects.get(uid=body["id"]).active is True


def test_a_member_removed_by_hand_comes_back_at_the_providers_next_update(scim, workspace):
    body = _create(scim)
    user = User.objects.get(email="ada@acme.test")
    Membership.objects.filter(user=user, workspace=workspace).delete()
    scim.patch(f"Users/{body['id']}", patch_body({"op": "replace", "path": "displayName", "value": "Ada"}))
    assert Membership.objects.filter(user=user, workspace=workspace).exists()
    assert Activity.objects.filter(workspace=workspace, verb="provisioned member").count() == 2
