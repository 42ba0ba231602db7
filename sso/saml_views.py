"""SAML 2.0 pages, under /sso/<provider_id>/saml/ (names in the "sso" namespace):

- `login/`     SP-initiated sign-in: an AuthnRequest to the IdP (HTTP-Redirect binding); the request
               id is kept in this browser's session for REQUEST_LIFETIME.
- `acs/`       the assertion consumer service the IdP posts to (HTTP-POST binding). That post comes
               from the IdP's site, so the browser does not send our SameSite=Lax session cookie
               with it; the page answers with a form that posts the same SAMLResponse to
               `acs/complete/` from our own site, which the cookie does accompany (decision 1812).
- `acs/complete/` checks the answer (sso/saml.py), that it answers a request of this browser
               (InResponseTo) and was never used (replay), then signs the person in through
               sso.services.sign_in_from_identity, shared with OIDC.
- `metadata/`  our SP metadata for this provider (its URL is also our entity id).

Every refusal is the shared refusal page and one log line on `pmhub.sso`, never a 500.
"""

from __future__ import annotations

import logging
import time

from django.contrib import messages
from django.contrib.auth import login
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from pmhub.utils import safe_next

from . import saml_services, services
from .models import IdentityProvider
from .saml import SamlMetadataInvalid, SamlRefused, authn_request_redirect, authn_response_read, sp_metadata_xml
from .views import refusal_page

log = logging.getLogger("pmhub.sso")

SESSION_KEY = "sso_saml_requests"
REQUEST_LIFETIME = 10 * 60  # seconds a person has at the IdP before the answer is refused
MAX_OUTSTANDING = 5  # sign-ins started in other tabs that are still accepted

NOT_READY = ("This identity provider is not ready: its SAML metadata has not been loaded yet."
             " Ask your workspace administrator to check the provider's settings.")
UNKNOWN = "This single sign-on provider does not exist or is switched off."
BUSY = "Single sign-on could not be completed just now. Please try again."


def _provider(provider_id: int) -> IdentityProvider | None:
    return IdentityProvider.objects.filter(pk=provider_id, protocol=IdentityProvider.Protocol.SAML).first()


def _refused(request, provider, code: str, message: str, *, detail: str = "", status: int = 403):
    if detail:
        log.info("sso.saml.refused_detail provider=%s reason=%s detail=%s", getattr(provider, "pk", None),
                 code, detail[:300])
    return refusal_page(request, code=f"saml_{code}", message=message, provider=provider, status=status)


def _outstanding(request, *, provider_id: int) -> dict[str, dict]:
    """This browser's sign-ins with this provider that may still be answered."""
    now = time.time()
    kept = {rid: entry for rid, entry in (request.session.get(SESSION_KEY) or {}).items()
            if isinstance(entry, dict) and now - entry.get("at", 0) < REQUEST_LIFETIME}
    return {rid: entry for rid, entry in kept.items() if entry.get("provider") == provider_id}


@never_cache
@require_GET
def saml_login(request, provider_id: int):
    provider = _provider(provider_id)
    if provider is None or not provider.enabled:
        return _refused(request, provider, "unknown_provider", UNKNOWN, status=404)
    if not provider.metadata_xml:
        return _refused(request, provider, "not_ready", NOT_READY, status=503)
    try:
        request_id, location = authn_request_redirect(saml_services.saml_sp_for(provider), relay_state="")
    except SamlMetadataInvalid as exc:
        return _refused(request, provider, "not_ready", NOT_READY, detail=exc.reason, status=503)
    except SamlRefused as exc:  # xmlsec1 missing on this server
        return _refused(request, provider, exc.code, exc.message, detail=exc.detail, status=503)
    now = time.time()
    pending = {rid: entry for rid, entry in (request.session.get(SESSION_KEY) or {}).items()
               if isinstance(entry, dict) and now - entry.get("at", 0) < REQUEST_LIFETIME}
    pending[request_id] = {"provider": provider.pk, "at": now, "next": safe_next(request, "")}
    # The newest few only: a session is not a place to pile up ids.
    request.session[SESSION_KEY] = dict(sorted(pending.items(), key=lambda kv: kv[1]["at"])[-MAX_OUTSTANDING:])
    log.info("sso.saml.request provider=%s", provider.pk)
    return redirect(location)


@csrf_exempt  # the IdP posts here from its own site; the answer's own checks replace the token
@never_cache
def saml_acs(request, provider_id: int):
    provider = _provider(provider_id)
    if provider is None:
        return _refused(request, provider, "unknown_provider", UNKNOWN, status=404)
    if request.method != "POST" or not request.POST.get("SAMLResponse"):
        return _refused(request, provider, "no_response",
                        "This address receives the identity provider's answer. Please start from PMHub's"
                        " sign-in page.", status=400)
    return render(request, "sso/saml_post.html", {
        "provider": provider, "saml_response": request.POST["SAMLResponse"],
        "relay_state": request.POST.get("RelayState", "")[:80]})


@csrf_exempt  # bound to the browser by InResponseTo (a request id only this session holds)
@never_cache
def saml_acs_complete(request, provider_id: int):
    provider = _provider(provider_id)
    if provider is None or not provider.enabled:
        return _refused(request, provider, "unknown_provider", UNKNOWN, status=404)
    if request.method != "POST" or not request.POST.get("SAMLResponse"):
        return _refused(request, provider, "no_response",
                        "This address receives the identity provider's answer. Please start from PMHub's"
                        " sign-in page.", status=400)
    if not provider.metadata_xml:
        return _refused(request, provider, "not_ready", NOT_READY, status=503)
    outstanding = _outstanding(request, provider_id=provider.pk)
    sp = saml_services.saml_sp_for(provider)
    try:
        answer = authn_response_read(sp, request.POST["SAMLResponse"],
                                     outstanding={rid: entry.get("next", "") for rid, entry in outstanding.items()})
    except SamlRefused as exc:
        return _refused(request, provider, exc.code, exc.message, detail=exc.detail,
                        status=400 if exc.code == "malformed" else 403)
    except SamlMetadataInvalid as exc:
        return _refused(request, provider, "not_ready", NOT_READY, detail=exc.reason, status=503)
    if not saml_services.saml_assertion_claim(provider_id=provider.pk, assertion_id=answer.assertion_id,
                                              expires_at=answer.expires_at):
        return _refused(request, provider, "replayed", "This sign-in answer was already used. Please sign in again.",
                        detail=f"assertion {answer.assertion_id[:80]}")
    try:
        user = services.sign_in_from_identity(provider, subject=answer.subject, email=answer.email, name=answer.name,
                                              groups=list(answer.groups))
    except services.SignInRefused as exc:
        return _refused(request, provider, exc.code, exc.message)
    # The request id stays in the session until it expires (another tab may still be answered);
    # the replay store above is what makes each answer single-use.
    next_path = (outstanding.get(answer.in_response_to) or {}).get("next", "")
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    messages.success(request, f"Signed in with {provider.name}.")
    log.info("sso.saml.signed_in provider=%s user=%s", provider.pk, user.pk)
    return redirect(next_path or "home")


@require_GET
def saml_metadata(request, provider_id: int):
    """Public, like every SP's metadata: IdPs fetch it. It holds no secret."""
    provider = _provider(provider_id)
    if provider is None:
        return _refused(request, provider, "unknown_provider", UNKNOWN, status=404)
    try:
        xml = sp_metadata_xml(saml_services.saml_sp_for(provider))
    except SamlRefused as exc:
        return _refused(request, provider, exc.code, exc.message, detail=exc.detail, status=503)
    response = HttpResponse(xml, content_type="application/samlmetadata+xml; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="pmhub-sp-{provider.pk}.xml"'
    return response
