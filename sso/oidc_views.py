"""OpenID Connect sign-in pages (filled in by the OIDC work; see sso/oidc.py)."""

from django.http import Http404


def oidc_login(request, provider_id):
    raise Http404


def oidc_callback(request, provider_id):
    raise Http404
