"""Sign-in pages outside any workspace, mounted at /sso/ (pmhub/urls.py), names in the "sso" namespace.

Each protocol serves, under `<provider_id>/<protocol>/`:
- `<protocol>_login`: start a sign-in with one provider (IdentityProvider.login_path(), the
  "Continue with SSO" redirect and the provider choice link to it);
- `<protocol>_callback`: the URL registered at the provider (OIDC redirect URI, SAML ACS), shown on
  the provider's settings page and in the API as `callback_url` (IdentityProvider.callback_url()).
Both end in sso.services.sign_in_from_identity and refuse through sso.views.refusal_page.
"""

from django.urls import path

from . import oidc_views, saml_views, views

app_name = "sso"

urlpatterns = [
    path("", views.SsoStartView.as_view(), name="start"),
    path("<int:provider_id>/oidc/login/", oidc_views.oidc_login, name="oidc_login"),
    path("<int:provider_id>/oidc/callback/", oidc_views.oidc_callback, name="oidc_callback"),
    path("<int:provider_id>/saml/login/", saml_views.saml_login, name="saml_login"),
    # SAML's callback is its assertion consumer service (ACS), the URL an owner gives the IdP.
    path("<int:provider_id>/saml/acs/", saml_views.saml_acs, name="saml_callback"),
    path("<int:provider_id>/saml/acs/complete/", saml_views.saml_acs_complete, name="saml_acs_complete"),
    path("<int:provider_id>/saml/metadata/", saml_views.saml_metadata, name="saml_metadata"),
]
