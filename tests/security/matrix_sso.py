"""Tenancy-matrix entries of the sso app. Format: see tests/security/README.md."""

from django.forms.models import model_to_dict

from .matrix import Exempt, Route


def _provider(ws):
    from tests.sso.factories import IdentityProviderFactory

    return IdentityProviderFactory(workspace=ws)


def _domain(ws):
    from tests.sso.factories import SsoDomainFactory

    return SsoDomainFactory(workspace=ws, verified_at=None)


def _row(model):
    def snapshot(obj):
        row = model.objects.filter(pk=obj.pk).first()
        return None if row is None else model_to_dict(row)
    return snapshot


def _provider_state(obj):
    from sso.models import IdentityProvider

    return _row(IdentityProvider)(obj)


def _domain_state(obj):
    from sso.models import SsoDomain

    return _row(SsoDomain)(obj)


ADMIN_ONLY = ("Admin-only resource (as channel and webhook-endpoint): retrieve needs Role.ADMIN, so a viewer's GET "
              "is 403 where the matrix asserts 200. Outsider 404 on every method (verify/ included), viewer and "
              "editor 403 on every write with the row unchanged, the client secret never returned: "
              "tests/sso/test_api.py (test_api_tenancy_*).")

API = {
    "sso-provider": Exempt(ADMIN_ONLY),
    "sso-domain": Exempt(ADMIN_ONLY),
}

PAGES = {
    "sso_admin:provider": Route(build=_provider, payload=lambda p: {"action": "delete"}, snapshot=_provider_state),
    "sso_admin:domain": Route(build=_domain, payload=lambda d: {"action": "delete"}, snapshot=_domain_state),
    "sso:oidc_login": Exempt(
        "Public sign-in start, outside any workspace by design (the person is not signed in yet): a provider id is "
        "not a secret and the page only redirects to the provider's authorization endpoint; an unknown or SAML "
        "provider id is 404: tests/sso/test_oidc.py."),
    "sso:oidc_callback": Exempt(
        "Public sign-in callback: the credential is the state kept in this browser's session plus the provider's "
        "signed ID token; a missing, replayed or other provider's state is refused with a clear page and changes "
        "nothing: tests/sso/test_oidc.py."),
}
