"""Tenancy matrix entries of the SAML sign-in pages (sso/saml_views.py). OIDC's and the settings
pages' entries are in matrix_sso.py."""

from .matrix import Exempt

_PUBLIC = ("Public by design: the sign-in flow runs before anyone is signed in, so there is no workspace "
           "membership to check. It reveals nothing of a workspace (a provider that is not SAML, or unknown, "
           "is a 404 refusal page) and writes only through a verified, signed SAML answer bound to this "
           "browser's session: tests/sso/test_saml.py.")

PAGES = {
    "sso:saml_login": Exempt(_PUBLIC + " GET only: stores an AuthnRequest id in the visitor's own session."),
    "sso:saml_callback": Exempt(_PUBLIC + " The ACS: re-posts the IdP's answer from our own site and changes "
                                          "nothing (decision 1812)."),
    "sso:saml_acs_complete": Exempt(_PUBLIC + " Signs in only on a signed answer to this session's request, "
                                              "for the provider's verified domains; each refusal is tested."),
    "sso:saml_metadata": Exempt("Public by design: an SP's metadata is what IdPs fetch (entity id, ACS URL); it "
                                "holds no secret and no workspace data: tests/sso/test_saml.py."),
}
