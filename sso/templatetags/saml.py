"""`{% saml_sp provider %}`: PMHub's side of a SAML provider (what to give the IdP) and the state of
its IdP metadata, on the provider's settings page."""

from django import template
from django.conf import settings
from django.urls import reverse

register = template.Library()


@register.inclusion_tag("sso/_saml_sp.html")
def saml_sp(provider):
    from sso.saml_services import saml_acs_url, saml_entity_id

    return {
        "provider": provider,
        "entity_id": saml_entity_id(provider),
        "acs_url": saml_acs_url(provider),
        "login_url": settings.SITE_URL + reverse("sso:saml_login", args=[provider.pk]),
    }
