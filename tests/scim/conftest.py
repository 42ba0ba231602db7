"""Fixtures of the SCIM tests: a workspace's SCIM token and a client that speaks SCIM with it."""

import json

import pytest
from django.test import Client

from pmhub.models import Role
from scim import services
from scim.models import ScimToken

SCIM_JSON = "application/scim+json"


class ScimClient:
    """Django's test client with the bearer token and the SCIM media type; answers are parsed."""

    def __init__(self, raw: str | None):
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {raw}"} if raw else {}

    def call(self, method: str, path: str, body=None, headers=None, **params):
        url = path if path.startswith("/") else f"/scim/v2/{path}"
        kwargs = {"headers": self.headers | (headers or {})}
        if body is not None:
            kwargs["data"] = body if isinstance(body, (str, bytes)) else json.dumps(body)
            kwargs["content_type"] = SCIM_JSON
        elif params:
            kwargs["data"] = params
        response = getattr(self.client, method)(url, **kwargs)
        response.body = json.loads(response.content) if response.content else None
        return response

    def get(self, path, **params):
        return self.call("get", path, **params)

    def post(self, path, body, **kw):
        return self.call("post", path, body, **kw)

    def put(self, path, body, **kw):
        return self.call("put", path, body, **kw)

    def patch(self, path, body, **kw):
        return self.call("patch", path, body, **kw)

    def delete(self, path, **kw):
        return self.call("delete", path, **kw)


def make_scim_token(workspace, *, name="Okta") -> tuple[ScimToken, str]:
    from pmhub.models import Membership

    admin = Membership.objects.filter(workspace=workspace, role=Role.ADMIN).select_related("user").first()
    if admin is None:
        from tests.factories import MembershipFactory, UserFactory

        admin = MembershipFactory(workspace=workspace, user=UserFactory(), role=Role.ADMIN)
    return services.scim_token_create(user=admin.user, workspace=workspace, name=name)


@pytest.fixture
def scim_token(workspace, admin):
    return make_scim_token(workspace)


@pytest.fixture
def scim(scim_token):
    return ScimClient(scim_token[1])


@pytest.fixture
def other_scim(other_workspace):
    return ScimClient(make_scim_token(other_workspace, name="Other IdP")[1])


def user_body(user_name="ada@acme.test", email=None, **extra):
    body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": user_name,
            "name": {"givenName": "Ada", "familyName": "Lovelace"},
            "emails": [{"value": email or user_name, "type": "work", "primary": True}], "active": True}
    body.update(extra)
    return body


def group_body(name="Engineering", members=(), **extra):
    body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name,
            "members": [{"value": m} for m in members]}
    body.update(extra)
    return body


def patch_body(*operations):
    return {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": list(operations)}
