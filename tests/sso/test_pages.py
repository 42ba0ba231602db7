"""Settings pages of single sign-on: admins add, edit, disable and delete providers and domains;
nobody else sees them; the client secret never comes back."""

import pytest

from pmhub.models import Role
from pmhub.secretbox import unseal
from sso.models import IdentityProvider, SsoDomain
from tests.factories import PASSWORD

from .factories import IdentityProviderFactory, SsoDomainFactory

PROVIDER = {"name": "Okta", "protocol": "oidc", "enabled": "on", "issuer": "https://acme.okta.com",
            "client_id": "0oa123", "client_secret": "s3cr3t-value", "scopes": "openid email profile groups",
            "groups_claim": "groups", "default_role": "10", "group_roles": "PM Admins: admin\npm-editors: Editor",
            "jit_enabled": "on"}


def _login(client, user):
    assert client.login(username=user.email, password=PASSWORD)


@pytest.mark.django_db
def test_admin_adds_a_provider_whose_secret_is_sealed_and_never_shown(client, admin, workspace, settings):
    settings.OUTBOUND_ALLOWED_HOSTS = []
    _login(client, admin)
    assert client.get(f"/w/{workspace.slug}/sso/").status_code == 200
    response = client.post(f"/w/{workspace.slug}/sso/", PROVIDER)
    assert response.status_code == 302
    provider = IdentityProvider.objects.get(workspace=workspace)
    assert unseal(provider.client_secret_sealed) == "s3cr3t-value"
    assert provider.group_roles == [{"group": "PM Admins", "role": Role.ADMIN}, {"group": "pm-editors", "role": Role.EDITOR}]
    page = client.get(response["Location"])
    assert page.status_code == 200 and b"s3cr3t-value" not in page.content
    assert f"/sso/{provider.pk}/oidc/callback/".encode() in page.content
    assert b"PM Admins: admin" in page.content


@pytest.mark.django_db
def test_provider_form_refusals_keep_what_was_typed(client, admin, workspace):
    _login(client, admin)
    for change, message in (({"issuer": "http://acme.okta.com"}, b"Use an https:// address"),
                            ({"issuer": "https://127.0.0.1"}, b"cannot be used"),
                            ({"group_roles": "pm-admins: boss"}, b"Line 1"),
                            ({"client_id": ""}, b"needs a client id")):
        response = client.post(f"/w/{workspace.slug}/sso/", {**PROVIDER, **change})
        assert response.status_code == 400 and message in response.content
        assert b'value="Okta"' in response.content
    assert not IdentityProvider.objects.exists()


@pytest.mark.django_db
def test_admin_edits_a_provider_keeping_the_secret_when_left_empty_then_deletes_it(client, admin, workspace):
    provider = IdentityProviderFactory(workspace=workspace, name="Okta", issuer="https://acme.okta.com")
    sealed = provider.client_secret_sealed
    _login(client, admin)
    url = f"/w/{workspace.slug}/sso/providers/{provider.pk}/"
    data = {**PROVIDER, "name": "Okta (new)", "client_secret": "", "enabled": "", "version": provider.version}
    assert client.post(url, data).status_code == 302
    provider.refresh_from_db()
    assert provider.name == "Okta (new)" and not provider.enabled and provider.client_secret_sealed == sealed
    response = client.post(url, {**data, "name": "Stale"})  # the version read before the save above
    assert response.status_code == 409 and b"Someone else changed this identity provider" in response.content
    provider.refresh_from_db()
    assert provider.name == "Okta (new)"
    assert client.post(url, {"action": "delete"}).status_code == 302
    assert not IdentityProvider.objects.filter(pk=provider.pk).exists()


@pytest.mark.django_db
def test_admin_adds_verifies_and_requires_a_domain(client, admin, workspace, settings):
    _login(client, admin)
    response = client.post(f"/w/{workspace.slug}/sso/domains/", {"domain": "Acme.TEST"})
    assert response.status_code == 302
    domain = SsoDomain.objects.get(workspace=workspace)
    page = client.get(response["Location"])
    assert domain.txt_record.encode() in page.content
    settings.SSO_DNS_TXT_OVERRIDES = {}
    url = f"/w/{workspace.slug}/sso/domains/{domain.pk}/"
    page = client.post(url, {"action": "verify"}, follow=True)
    assert b"No TXT record" in page.content
    settings.SSO_DNS_TXT_OVERRIDES = {"acme.test": [domain.txt_record]}
    page = client.post(url, {"action": "verify"}, follow=True)
    assert b"Domain acme.test verified" in page.content
    domain.refresh_from_db()
    assert domain.verified_at is not None
    client.post(url, {"action": "require", "version": domain.version})
    domain.refresh_from_db()
    assert domain.require_sso
    assert client.post(url, {"action": "delete"}).status_code == 302
    assert not SsoDomain.objects.exists()


@pytest.mark.django_db
def test_only_admins_see_the_pages_and_other_workspaces_do_not_exist(client, editor, workspace, other_workspace):
    provider = IdentityProviderFactory(workspace=workspace)
    domain = SsoDomainFactory(workspace=workspace)
    _login(client, editor)
    for url in (f"/w/{workspace.slug}/sso/", f"/w/{workspace.slug}/sso/providers/{provider.pk}/",
                f"/w/{workspace.slug}/sso/domains/", f"/w/{workspace.slug}/sso/domains/{domain.pk}/"):
        assert client.get(url).status_code == 403
        assert client.post(url, {"action": "delete"}).status_code == 403
    assert IdentityProvider.objects.filter(pk=provider.pk).exists() and SsoDomain.objects.filter(pk=domain.pk).exists()
    theirs = IdentityProviderFactory(workspace=other_workspace)
    from pmhub.models import Membership

    Membership.objects.filter(user=editor, workspace=workspace).update(role=Role.ADMIN)
    assert client.get(f"/w/{workspace.slug}/sso/providers/{theirs.pk}/").status_code == 404
    assert client.get(f"/w/{workspace.slug}/sso/providers/{provider.pk}/").status_code == 200


@pytest.mark.django_db
def test_login_page_offers_sso_and_the_start_page_offers_a_choice_between_providers(client, workspace):
    assert b"Continue with SSO" in client.get("/accounts/login/").content
    SsoDomainFactory(workspace=workspace, domain="acme.test")
    IdentityProviderFactory(workspace=workspace, name="Okta")
    IdentityProviderFactory(workspace=workspace, name="Entra ID")
    response = client.post("/sso/", {"email": "ada@acme.test"})
    assert response.status_code == 200
    assert b"Entra ID" in response.content and b"Okta" in response.content


@pytest.mark.django_db
def test_only_the_start_page_lets_its_form_lead_to_the_identity_provider(client, workspace):
    IdentityProviderFactory(workspace=workspace, issuer="http://127.0.0.1:5556")
    IdentityProviderFactory(workspace=workspace, issuer="http://10.0.0.9:8080", enabled=False)
    policy = client.get("/sso/")["Content-Security-Policy"]
    assert "form-action 'self' https: http://127.0.0.1:5556" in policy and "10.0.0.9" not in policy
    assert "script-src 'self'" in policy
    assert client.get("/accounts/login/")["Content-Security-Policy"].endswith("form-action 'self'")


@pytest.mark.django_db
def test_settings_lists_take_a_fixed_number_of_queries(client, admin, workspace, django_assert_max_num_queries):
    from sso import services as sso_services

    SsoDomainFactory(workspace=workspace, domain="acme.test")
    for i in range(8):
        provider = IdentityProviderFactory(workspace=workspace, name=f"P{i}")
        sso_services.sign_in_from_identity(provider, subject=f"s{i}", email=f"p{i}@acme.test", groups=[])
        SsoDomainFactory(workspace=workspace, domain=f"d{i}.test")
    _login(client, admin)
    with django_assert_max_num_queries(12):
        assert client.get(f"/w/{workspace.slug}/sso/").status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(f"/w/{workspace.slug}/sso/domains/").status_code == 200
    with django_assert_max_num_queries(14):
        assert client.get(f"/w/{workspace.slug}/sso/providers/{provider.pk}/").status_code == 200
