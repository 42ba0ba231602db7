"""Every payload of xss_corpus.py arriving from an identity provider (userName, display name,
name parts, group name) and as a SCIM token's name: inert on the SCIM settings page, the group's
page and the members page, and returned by /scim/v2/ as JSON data, byte for byte."""

import json

import pytest

from scim import services
from tests.scim.conftest import ScimClient

from .xss_cases import CASES, browser, get_inert, payload

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("case", CASES)
def test_payloads_from_the_identity_provider_are_inert_in_pages_and_data_in_scim(case, admin, workspace):
    token, raw = services.scim_token_create(user=admin, workspace=workspace, name=payload(case, 0, 100))
    scim = ScimClient(raw)
    user = scim.post("Users", {"userName": payload(case, 1, 255), "displayName": payload(case, 2, 255),
                               "name": {"givenName": payload(case, 3, 150), "familyName": payload(case, 4, 150)},
                               "emails": [{"value": f"x{case}@acme.test", "primary": True}]})
    assert user.status_code == 201, user.body
    group = scim.post("Groups", {"displayName": payload(case, 5, 255), "members": [{"value": user.body["id"]}]})
    assert group.status_code == 201, group.body
    assert user["Content-Type"] == "application/scim+json"
    for response, key, index in ((user, "userName", 1), (user, "displayName", 2), (group, "displayName", 5)):
        assert json.loads(response.content)[key] == payload(case, index, 255).strip()  # trimmed, else as sent
    client = browser(admin)
    get_inert(client, f"/w/{workspace.slug}/settings/scim/", "SCIM settings")
    from scim.models import ScimGroup

    group_id = ScimGroup.objects.get(uid=group.body["id"]).id
    get_inert(client, f"/w/{workspace.slug}/settings/scim/groups/{group_id}/", "SCIM group")
    get_inert(client, f"/w/{workspace.slug}/members/", "members")
