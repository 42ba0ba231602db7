import pytest

from .factories import IdentityProviderFactory, SsoDomainFactory
from .idp import MockProvider


@pytest.fixture(scope="session")
def idp_server():
    server = MockProvider()
    yield server
    server.close()


@pytest.fixture
def idp(idp_server, settings):
    # The provider listens on loopback: allowed by the operator's allowlist (tests only), as for webhooks.
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    idp_server.spoil = None
    idp_server.last_token = None
    yield idp_server
    idp_server.spoil = None


@pytest.fixture
def oidc_provider(idp, workspace):
    """Workspace Acme signs people of acme.test in with the provider on 127.0.0.1."""
    SsoDomainFactory(workspace=workspace, domain="acme.test")
    return IdentityProviderFactory(workspace=workspace, name="Acme IdP", issuer=idp.issuer, client_id="pmhub-test",
                                   group_roles=[{"group": "pm-admins", "role": 30}, {"group": "pm-editors", "role": 20}])


@pytest.fixture
def client_factory():
    """Another browser (its own cookies and session)."""
    from django.test import Client

    return Client
