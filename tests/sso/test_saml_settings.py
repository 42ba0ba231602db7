"""A SAML provider in the settings pages and the API: pasted metadata is checked, PMHub's side (entity
id, ACS URL, sign-in URL) is shown to give the IdP, and the metadata's state is visible."""

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from pmhub.models import Role
from sso.models import IdentityProvider
from tests.factories import PASSWORD, make_token

from .saml_idp import IDP_ENTITY_ID, TestIdp

pytestmark = pytest.mark.django_db


@pytest.fixture
def saml_idp(tmp_path):
    return TestIdp(tmp_path)


def _form(**extra):
    return {"name": "Entra ID", "protocol": "saml", "enabled": "on", "default_role": str(Role.VIEWER),
            "groups_claim": "", "group_roles": "pm-admins: admin", "jit_enabled": "on", **extra}


def test_admin_adds_a_saml_provider_and_sees_what_to_give_the_idp(client, admin, workspace, saml_idp, settings):
    assert client.login(username=admin.email, password=PASSWORD)
    response = client.post(f"/w/{workspace.slug}/sso/", _form(metadata_xml=saml_idp.metadata_xml(),
                                                              email_attribute="workMail"))
    assert response.status_code == 302, response.content.decode()[:2000]
    provider = IdentityProvider.objects.get(workspace=workspace)
    assert (provider.protocol, provider.entity_id, provider.email_attribute) == ("saml", IDP_ENTITY_ID, "workMail")

    page = client.get(response["Location"]).content.decode()
    assert f"{settings.SITE_URL}/sso/{provider.pk}/saml/metadata/" in page
    assert f"{settings.SITE_URL}/sso/{provider.pk}/saml/acs/" in page
    assert f"{settings.SITE_URL}/sso/{provider.pk}/saml/login/" in page
    assert f"Loaded: identity provider <code class=\"secret\">{IDP_ENTITY_ID}</code>" in page
    assert 'value="workMail"' in page


def test_broken_metadata_is_refused_at_the_field_keeping_what_was_typed(client, admin, workspace):
    assert client.login(username=admin.email, password=PASSWORD)
    response = client.post(f"/w/{workspace.slug}/sso/", _form(metadata_xml="<EntityDescriptor/>", name="Typed"))

    assert response.status_code == 400
    page = response.content.decode()
    assert "This metadata cannot be used" in page and 'value="Typed"' in page and "&lt;EntityDescriptor/&gt;" in page
    assert not IdentityProvider.objects.exists()


def test_provider_page_says_when_the_metadata_fetch_failed(client, admin, workspace, saml_idp):
    provider = IdentityProvider.objects.create(
        workspace=workspace, name="Okta", protocol="saml", metadata_url="https://acme.okta.com/app/x/sso/saml/metadata",
        metadata_xml=saml_idp.metadata_xml(), entity_id=IDP_ENTITY_ID, metadata_fetched_at=timezone.now(),
        metadata_error="the metadata URL answered HTTP 404")
    assert client.login(username=admin.email, password=PASSWORD)

    page = client.get(f"/w/{workspace.slug}/sso/providers/{provider.pk}/").content.decode()

    assert "The last fetch of the metadata URL failed: the metadata URL answered HTTP 404." in page
    assert "The metadata loaded before is still used." in page


def test_api_creates_a_saml_provider_and_answers_its_sp_addresses(admin, workspace, saml_idp, settings):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {make_token(user=admin, workspace=workspace)}")
    response = api.post("/api/v1/sso/providers/", {
        "workspace": workspace.id, "name": "Keycloak", "protocol": "saml", "metadata_xml": saml_idp.metadata_xml(),
        "name_attribute": "cn", "group_roles": [{"group": "pm-editors", "role": 20}]}, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["entity_id"] == IDP_ENTITY_ID and body["name_attribute"] == "cn"
    assert body["sp_entity_id"] == f"{settings.SITE_URL}/sso/{body['id']}/saml/metadata/"
    assert body["callback_url"] == f"{settings.SITE_URL}/sso/{body['id']}/saml/acs/"
    assert body["metadata_error"] == ""


def test_api_refuses_unusable_metadata_with_the_reason(admin, workspace):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {make_token(user=admin, workspace=workspace)}")
    response = api.post("/api/v1/sso/providers/", {
        "workspace": workspace.id, "name": "Keycloak", "protocol": "saml", "metadata_xml": "<html/>"}, format="json")

    assert response.status_code == 400
    assert "not SAML 2.0 metadata" in response.json()["errors"]["metadata_xml"][0]
    assert not IdentityProvider.objects.exists()
