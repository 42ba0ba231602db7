"""OpenID Connect sign-in pages: start (redirect to the provider) and the callback.

What the browser carries between the two is only `state`; the nonce, the PKCE verifier and where
to go next stay in the server-side session, keyed by state (a few sign-ins may be under way in
several tabs). A state is popped when its callback arrives, so a replayed callback finds nothing.
"""

import logging

from django.contrib.auth import login
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from pmhub.utils import safe_next

from . import oidc, services
from .models import IdentityProvider
from .views import refusal_page

log = logging.getLogger("pmhub.sso")

SESSION_KEY = "sso_oidc_pending"
MAX_PENDING = 5
# Error codes of RFC 6749 4.1.2.1 / OIDC Core 3.1.2.6 we may name on the page; anything else is "other".
PROVIDER_ERRORS = {"access_denied", "login_required", "consent_required", "interaction_required",
                   "invalid_request", "unauthorized_client", "invalid_scope", "server_error",
                   "temporarily_unavailable", "account_selection_required"}


def _provider(provider_id) -> IdentityProvider:
    provider = IdentityProvider.objects.filter(pk=provider_id, protocol=IdentityProvider.Protocol.OIDC).first()
    if provider is None:
        raise Http404("Not found.")
    return provider


def _refuse(request, exc: services.SignInRefused, provider=None):
    status = 502 if exc.code == "provider_unreachable" else 403 if exc.code in {
        "deactivated", "domain_not_verified", "no_account", "provider_disabled", "linked_elsewhere"} else 400
    return refusal_page(request, code=exc.code, message=exc.message, provider=provider, status=status)


@never_cache
@require_GET
def oidc_login(request, provider_id):
    provider = _provider(provider_id)
    if not provider.enabled:
        return _refuse(request, services.SignInRefused("provider_disabled"), provider)
    # Exactly the URL the settings page shows for registering at the provider (built from
    # SITE_URL, not from this request's Host header, which a proxy may have rewritten).
    redirect_uri = provider.callback_url()
    try:
        url, pending = oidc.authorization_start(provider, redirect_uri=redirect_uri,
                                                login_hint=request.session.get("sso_login_hint", ""))
    except services.SignInRefused as exc:
        return _refuse(request, exc, provider)
    pending["next"] = safe_next(request, "")
    waiting = [p for p in request.session.get(SESSION_KEY, []) if oidc.pending_is_fresh(p)]
    request.session[SESSION_KEY] = [*waiting[-(MAX_PENDING - 1):], pending]
    return redirect(url)


@never_cache
@require_GET
def oidc_callback(request, provider_id):
    provider = _provider(provider_id)
    state = request.GET.get("state", "")
    waiting = request.session.get(SESSION_KEY, [])
    pending = next((p for p in waiting if state and p.get("state") == state), None)
    if pending is not None:  # used once, whatever happens next
        request.session[SESSION_KEY] = [p for p in waiting if p is not pending]
    try:
        if pending is None or pending.get("provider") != provider.pk:
            raise services.SignInRefused(
                "bad_state", "This sign-in link is not valid in this browser (it was used already, or started "
                             "elsewhere). Start again.")
        if not oidc.pending_is_fresh(pending):
            raise services.SignInRefused("stale_state", "This sign-in took too long. Start again.")
        if request.GET.get("error"):
            error = request.GET["error"] if request.GET["error"] in PROVIDER_ERRORS else "other"
            log.info("sso.oidc.provider_error provider=%s error=%s", provider.pk, error)
            raise oidc.refused("provider_error")
        code = request.GET.get("code", "")
        if not code or len(code) > 2048:
            raise oidc.refused("token_exchange_failed")
        token = oidc.token_exchange(provider, code=code, pending=pending)
        claims = oidc.id_token_validate(provider, token=token, nonce=pending["nonce"])
        identity = oidc.identity_from_claims(provider, claims)
        user = services.sign_in_from_identity(provider, **identity)
    except services.SignInRefused as exc:
        return _refuse(request, exc, provider)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session.pop("sso_login_hint", None)
    next_path = pending.get("next") or ""
    return redirect(next_path or reverse("home"))
