"""Every payload of xss_corpus.py as an identity provider's name, a mapped group's name and the name
a provider sends for a person: inert on the settings pages, the provider's page (its group table
and the people who signed in) and the "Continue with SSO" choice of providers."""

import pytest
from django.urls import reverse

from pmhub.models import Role
from sso import services
from tests.sso.factories import IdentityProviderFactory, SsoDomainFactory

from .xss_cases import CASES, assert_inert, browser, get_inert, payload

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("case", CASES)
def test_payloads_are_inert_on_the_sso_pages(case, admin, workspace):
    SsoDomainFactory(workspace=workspace, domain="acme.test")
    provider = IdentityProviderFactory(workspace=workspace, name=payload(case, 0, 120),
                                       group_roles=[{"group": payload(case, 1, 200), "role": Role.EDITOR}])
    IdentityProviderFactory(workspace=workspace, name=payload(case, 2, 120))
    services.sign_in_from_identity(provider, subject="s-1", email="ada@acme.test", name=payload(case, 3, 150),
                                   groups=[payload(case, 1, 200)])
    client = browser(admin)
    get_inert(client, reverse("sso_admin:providers", kwargs={"ws": workspace.slug}))
    get_inert(client, reverse("sso_admin:provider", kwargs={"ws": workspace.slug, "provider_id": provider.id}))
    response = browser().post("/sso/", {"email": "ada@acme.test"})  # two providers: the choice page
    assert response.status_code == 200
    assert_inert(response.content.decode(), "sso:start choice")
