"""The identity provider's URLs an admin types (OIDC issuer, SAML metadata URL) under the outbound
policy (pmhub/outbound.py), like tests/security/test_outbound.py does for webhooks: every internal
address form x every way to save it is a 400 naming the reason and changes nothing; a row stored
without the check is refused when the sign-in would fetch it, and the receiver is never reached."""

import pytest

from pmhub.models import Role
from sso.models import IdentityProvider
from tests.factories import make_token
from tests.security.test_outbound import INTERNAL_HOSTS, Receiver

from .factories import IdentityProviderFactory, SsoDomainFactory

pytestmark = pytest.mark.django_db

BASE = {"name": "Okta", "protocol": "oidc", "issuer": "https://93.184.215.14", "client_id": "c",
        "metadata_url": "", "default_role": Role.VIEWER}


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def _api(admin, workspace):
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {make_token(user=admin, workspace=workspace)}")
    return api


def _api_create(*, admin, workspace, client, field, url):
    response = _api(admin, workspace).post("/api/v1/sso/providers/", {**BASE, "workspace": workspace.id, field: url},
                                           format="json")
    return response.status_code, " ".join(map(str, response.json().get("errors", {}).get(field, [])))


def _api_update(*, admin, workspace, client, field, url):
    provider = IdentityProviderFactory(workspace=workspace, issuer="https://93.184.215.14")
    response = _api(admin, workspace).patch(f"/api/v1/sso/providers/{provider.pk}/",
                                            {field: url, "version": provider.version}, format="json")
    return response.status_code, " ".join(map(str, response.json().get("errors", {}).get(field, [])))


def _page(*, admin, workspace, client, field, url):
    client.force_login(admin)
    data = {**BASE, "enabled": "on", "group_roles": "", "scopes": "openid", "groups_claim": "groups", field: url}
    response = client.post(f"/w/{workspace.slug}/sso/", data)
    if response.status_code == 302:
        return 302, ""
    return response.status_code, " ".join(response.context["form"].errors.get(field, []))


WAYS = {"api create": _api_create, "api update": _api_update, "page": _page}
FIELDS = ["issuer", "metadata_url"]


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("way", sorted(WAYS))
@pytest.mark.parametrize("host,reason", INTERNAL_HOSTS, ids=[h for h, _ in INTERNAL_HOSTS])
def test_saving_an_internal_url_is_a_400_naming_the_reason_and_changes_nothing(
        host, reason, way, field, admin, workspace, client, receiver):
    before = list(IdentityProvider.objects.values_list("id", "issuer", "metadata_url"))
    status, message = WAYS[way](admin=admin, workspace=workspace, client=client, field=field,
                                url=receiver.url(host))
    assert status == 400
    assert reason in message or "valid URL" in message, message
    if way != "api update":
        assert list(IdentityProvider.objects.values_list("id", "issuer", "metadata_url")) == before
    assert not IdentityProvider.objects.filter(**{field: receiver.url(host)}).exists()
    assert receiver.received == []


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("way", sorted(WAYS))
def test_saving_a_public_url_is_accepted_and_an_allowed_internal_host_too(way, field, admin, workspace, client,
                                                                         receiver, settings):
    status, message = WAYS[way](admin=admin, workspace=workspace, client=client, field=field,
                                url=f"https://93.184.215.14/{way.replace(' ', '-')}")
    assert status in (200, 201, 302), message
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    status, message = WAYS[way](admin=admin, workspace=workspace, client=client, field=field, url=receiver.url())
    assert status in (200, 201, 302), message
    assert IdentityProvider.objects.filter(**{field: receiver.url()}).exists()


@pytest.mark.parametrize("host,reason", INTERNAL_HOSTS, ids=[h for h, _ in INTERNAL_HOSTS])
def test_a_stored_internal_issuer_is_refused_at_sign_in_and_never_reached(host, reason, workspace, client, receiver,
                                                                          caplog):
    SsoDomainFactory(workspace=workspace, domain="acme.test")
    provider = IdentityProviderFactory(workspace=workspace, issuer=receiver.url(host, path=""))
    response = client.get(f"/sso/{provider.pk}/oidc/login/")
    assert response.status_code == 400 and b"not set up correctly" in response.content
    assert receiver.received == []
    assert f"reason={reason}" in caplog.text or "reason=provider_misconfigured" in caplog.text
