"""The SCIM settings page: endpoint and header shown, tokens created (shown once) and revoked,
the default role and a group's role saved; admins only."""

import pytest

from pmhub.models import Membership, Role
from scim.models import ScimConfig, ScimGroup, ScimToken, ScimUser
from tests.factories import UserFactory

from .conftest import make_scim_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def page(client, admin, workspace):
    client.force_login(admin)
    return f"/w/{workspace.slug}/settings/scim/"


def test_the_page_shows_the_base_url_and_the_header(client, page):
    response = client.get(page)
    assert response.status_code == 200
    html = response.content.decode()
    assert "http://testserver/scim/v2" in html and "Authorization: Bearer &lt;token&gt;" in html


def test_creating_a_token_shows_it_once(client, page, workspace):
    response = client.post(page, {"action": "create_token", "name": "Okta"})
    assert response.status_code == 200
    token = ScimToken.objects.get(workspace=workspace)
    raw = response.context["new_key"]
    assert raw.startswith("pmscim_") and raw in response.content.decode()
    assert raw not in client.get(page).content.decode()
    assert token.name == "Okta"


def test_a_token_without_a_name_keeps_the_form_with_the_error(client, page):
    response = client.post(page, {"action": "create_token", "name": ""})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not ScimToken.objects.exists()


def test_revoking_a_token_from_the_page(client, page, workspace):
    token, _ = make_scim_token(workspace)
    response = client.post(f"/w/{workspace.slug}/settings/scim/tokens/{token.id}/revoke/", follow=True)
    assert "revoked" in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_saving_the_default_role(client, page, workspace):
    client.get(page)
    config = ScimConfig.objects.get(workspace=workspace)
    response = client.post(page, {"action": "default_role", "default_role": Role.EDITOR, "version": config.version},
                           follow=True)
    assert "Default role saved." in response.content.decode()
    config.refresh_from_db()
    assert config.default_role == Role.EDITOR
    stale = client.post(page, {"action": "default_role", "default_role": Role.ADMIN, "version": 1})
    assert stale.status_code == 409
    config.refresh_from_db()
    assert config.default_role == Role.EDITOR


def test_mapping_a_group_to_a_role_from_its_page(client, page, workspace):
    member = UserFactory(email="m@acme.test")
    Membership.objects.create(user=member, workspace=workspace, role=Role.VIEWER)
    identity = ScimUser.objects.create(workspace=workspace, user=member, user_name="m")
    group = ScimGroup.objects.create(workspace=workspace, display_name="Product leads")
    group.members.add(identity)
    url = f"/w/{workspace.slug}/settings/scim/groups/{group.id}/"
    assert "Product leads" in client.get(url).content.decode()
    response = client.post(url, {"role": Role.EDITOR, "version": group.version}, follow=True)
    assert "now maps to editor" in response.content.decode()
    assert Membership.objects.get(user=member, workspace=workspace).role == Role.EDITOR
    group.refresh_from_db()
    response = client.post(url, {"role": "", "version": group.version}, follow=True)
    assert "now maps to no role" in response.content.decode()
    group.refresh_from_db()
    assert group.role is None


def test_members_below_admin_get_403(client, workspace, editor):
    client.force_login(editor)
    assert client.get(f"/w/{workspace.slug}/settings/scim/").status_code == 403
    assert client.post(f"/w/{workspace.slug}/settings/scim/", {"name": "x"}).status_code == 403
    assert not ScimToken.objects.exists()


def test_the_activity_page_reads_well_after_provisioning(client, page, workspace, scim):
    from .conftest import patch_body, user_body

    uid = scim.post("Users", user_body("ada@acme.test")).body["id"]
    group = scim.post("Groups", {"displayName": "Leads", "members": [{"value": uid}]}).body["id"]
    ScimGroup.objects.filter(uid=group).update(role=Role.EDITOR)
    scim.patch(f"Groups/{group}", patch_body({"op": "remove", "path": "members"}))
    scim.patch(f"Users/{uid}", patch_body({"op": "replace", "path": "active", "value": False}))
    html = client.get(f"/w/{workspace.slug}/activity/").content.decode()
    for words in ("created account (SCIM)", "provisioned member", "created SCIM group", "deprovisioned member"):
        assert words in html
    assert "None" not in html
