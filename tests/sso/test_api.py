"""/api/v1/sso/providers/ and /api/v1/sso/domains/: admins only, the client secret write-only."""

import pytest

from pmhub.models import Role
from pmhub.secretbox import unseal
from sso.models import IdentityProvider, SsoDomain
from tests.factories import MembershipFactory, UserFactory, make_token

from .factories import IdentityProviderFactory, SsoDomainFactory

BODY = {"name": "Okta", "protocol": "oidc", "issuer": "https://acme.okta.com", "client_id": "0oa1",
        "client_secret": "s3cr3t", "group_roles": [{"group": "pm-admins", "role": 30}], "default_role": 20}


def _api(user, workspace):
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {make_token(user=user, workspace=workspace)}")
    return api


@pytest.mark.django_db
def test_admin_creates_reads_updates_and_deletes_a_provider_without_ever_seeing_the_secret(admin, workspace):
    api = _api(admin, workspace)
    response = api.post("/api/v1/sso/providers/", {**BODY, "workspace": workspace.id}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert "client_secret" not in body and "client_secret_sealed" not in body and body["has_client_secret"]
    assert body["callback_url"].endswith(f"/sso/{body['id']}/oidc/callback/")
    provider = IdentityProvider.objects.get(pk=body["id"])
    assert unseal(provider.client_secret_sealed) == "s3cr3t"
    assert b"s3cr3t" not in api.get("/api/v1/sso/providers/").content
    response = api.patch(f"/api/v1/sso/providers/{provider.pk}/", {"enabled": False, "version": body["version"]},
                         format="json")
    assert response.status_code == 200 and response.json()["enabled"] is False
    stale = api.patch(f"/api/v1/sso/providers/{provider.pk}/", {"name": "x", "version": body["version"]},
                      format="json")
    assert stale.status_code == 409 and "s3cr3t" not in stale.content.decode()
    provider.refresh_from_db()
    assert unseal(provider.client_secret_sealed) == "s3cr3t" and provider.name == "Okta"
    assert api.delete(f"/api/v1/sso/providers/{provider.pk}/").status_code == 204
    assert not IdentityProvider.objects.exists()


@pytest.mark.django_db
def test_provider_api_refuses_bad_input(admin, workspace):
    api = _api(admin, workspace)
    for change in ({"issuer": "http://acme.okta.com"}, {"group_roles": [{"group": "a", "role": 99}]},
                   {"group_roles": [{"group": f"g{i}", "role": 10} for i in range(51)]}, {"client_id": ""}):
        response = api.post("/api/v1/sso/providers/", {**BODY, "workspace": workspace.id, **change}, format="json")
        assert response.status_code == 400, change
    assert not IdentityProvider.objects.exists()


@pytest.mark.django_db
def test_editors_are_refused_and_other_workspaces_do_not_exist(editor, admin, workspace, other_workspace):
    provider = IdentityProviderFactory(workspace=workspace)
    domain = SsoDomainFactory(workspace=workspace)
    api = _api(editor, workspace)
    assert api.get("/api/v1/sso/providers/").status_code == 403
    assert api.get(f"/api/v1/sso/providers/{provider.pk}/").status_code == 403
    assert api.delete(f"/api/v1/sso/domains/{domain.pk}/").status_code == 403
    assert api.post("/api/v1/sso/providers/", {**BODY, "workspace": workspace.id}, format="json").status_code == 403
    theirs = IdentityProviderFactory(workspace=other_workspace)
    admin_api = _api(admin, workspace)
    assert admin_api.get(f"/api/v1/sso/providers/{theirs.pk}/").status_code == 404
    assert admin_api.post("/api/v1/sso/providers/", {**BODY, "workspace": other_workspace.id},
                          format="json").status_code == 404
    assert IdentityProvider.objects.count() == 2 and SsoDomain.objects.filter(pk=domain.pk).exists()


@pytest.mark.django_db
def test_admin_claims_verifies_and_requires_a_domain(admin, workspace, settings):
    api = _api(admin, workspace)
    response = api.post("/api/v1/sso/domains/", {"workspace": workspace.id, "domain": "acme.test"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["verified"] is False and body["txt_record"].startswith("pmhub-verification=")
    settings.SSO_DNS_TXT_OVERRIDES = {}
    assert api.post(f"/api/v1/sso/domains/{body['id']}/verify/").status_code == 400
    settings.SSO_DNS_TXT_OVERRIDES = {"acme.test": [body["txt_record"]]}
    verified = api.post(f"/api/v1/sso/domains/{body['id']}/verify/")
    assert verified.status_code == 200 and verified.json()["verified"] is True
    response = api.patch(f"/api/v1/sso/domains/{body['id']}/", {"require_sso": True, "version": body["version"]},
                         format="json")
    assert response.status_code == 200 and response.json()["require_sso"] is True
    assert SsoDomain.objects.get(pk=body["id"]).require_sso


ROUTES = [("sso-provider", "/api/v1/sso/providers/{}/", IdentityProviderFactory),
          ("sso-domain", "/api/v1/sso/domains/{}/", SsoDomainFactory)]


def _snapshot(model, pk):
    from django.forms.models import model_to_dict

    row = model.objects.filter(pk=pk).first()
    return None if row is None else model_to_dict(row)


@pytest.mark.django_db
@pytest.mark.parametrize(("basename", "url", "factory"), ROUTES)
def test_api_tenancy_outsider_gets_404_on_every_method_and_nothing_changes(basename, url, factory, workspace,
                                                                           other_workspace):
    obj = factory(workspace=workspace, **({"verified_at": None} if basename == "sso-domain" else {}))
    outsider = UserFactory()
    MembershipFactory(user=outsider, workspace=other_workspace, role=Role.ADMIN)
    api = _api(outsider, other_workspace)
    before = _snapshot(type(obj), obj.pk)
    target = url.format(obj.pk)
    for method in ("get", "put", "patch", "delete"):
        assert getattr(api, method)(target, {"name": "Pwned", "require_sso": True}, format="json").status_code == 404
    if basename == "sso-domain":
        assert api.post(target + "verify/").status_code == 404
    assert _snapshot(type(obj), obj.pk) == before


@pytest.mark.django_db
@pytest.mark.parametrize(("basename", "url", "factory"), ROUTES)
@pytest.mark.parametrize("role", [10, 20])
def test_api_tenancy_viewer_and_editor_get_403_on_every_method_and_nothing_changes(basename, url, factory, role,
                                                                                   workspace, admin):
    obj = factory(workspace=workspace, **({"verified_at": None} if basename == "sso-domain" else {}))
    member = UserFactory()
    MembershipFactory(user=member, workspace=workspace, role=role)
    api = _api(member, workspace)
    before = _snapshot(type(obj), obj.pk)
    target = url.format(obj.pk)
    for method in ("get", "put", "patch", "delete"):
        response = getattr(api, method)(target, {"name": "Pwned", "require_sso": True, "version": 1}, format="json")
        assert response.status_code == 403
    if basename == "sso-domain":
        assert api.post(target + "verify/").status_code == 403
    assert _snapshot(type(obj), obj.pk) == before
    assert _api(admin, workspace).get(target).status_code == 200  # the twin: the admin sees it
