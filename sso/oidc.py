"""OpenID Connect, relying-party side (docs/decisions/1800-oidc-with-authlib.md).

The protocol work is Authlib's and joserfc's (Authlib's JOSE layer): the authorization request
(`prepare_grant_uri`), PKCE S256 (`create_s256_code_challenge`), the token request
(`prepare_token_request`), and the ID token's validation (`joserfc.jwt.decode` against the
provider's JWKS, then Authlib's `CodeIDToken` claims: issuer, audience, expiry, issued-at, nonce,
azp and at_hash). What is ours: fetching the discovery document, keys and tokens through
pmhub.outbound (the URL an admin typed must not reach the private network), caching them, and
turning each failure into a SignInRefused with a reason code the refusal page and the log share.

Per provider and at runtime: nothing here is configured at import time, so an owner adds a
provider in the settings pages and it works at once, without a redeploy.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import time
from urllib.parse import quote, urlsplit

from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from django.core.cache import cache
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidKeyIdError,
    JoseError,
)
from joserfc.jwk import KeySet

from pmhub.outbound import OutboundFailed, OutboundRefused, outbound_fetch
from pmhub.secretbox import SecretUnreadable, unseal

from .models import IdentityProvider
from .services import SignInRefused

log = logging.getLogger("pmhub.sso")

DISCOVERY_TTL = 3600  # seconds a discovery document and key set are reused
JWKS_REFRESH_MIN = 60  # an unknown key id refetches the key set at most this often
LEEWAY = 60  # seconds of clock difference tolerated on exp / iat
# Asymmetric signatures only: "none" and the HMAC family (keyed with the client secret) are refused.
SIGNING_ALGORITHMS = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
TIMEOUT = 10.0
PENDING_TTL = 600  # seconds between "Continue with SSO" and the provider's answer

MESSAGES = {
    "provider_unreachable": "We could not reach your identity provider. Try again in a moment.",
    "provider_misconfigured": "This identity provider is not set up correctly. Ask your workspace admin.",
    "provider_error": "Your identity provider did not sign you in.",
    "token_exchange_failed": "Your identity provider did not confirm the sign-in. Try again.",
    "bad_signature": "The sign-in could not be verified (its signature is not the identity provider's).",
    "malformed_token": "The sign-in could not be verified (the identity token is not valid).",
    "wrong_issuer": "The sign-in came from a different identity provider than this workspace uses.",
    "wrong_audience": "The sign-in was issued for a different application.",
    "expired_token": "The sign-in has expired. Try again.",
    "bad_nonce": "This sign-in was already used or does not belong to this browser. Try again.",
    "email_not_verified": "Your identity provider says your e-mail address is not verified.",
}


def refused(code: str) -> SignInRefused:
    return SignInRefused(code, MESSAGES.get(code))


def _key(kind: str, issuer: str) -> str:
    return f"sso:oidc:{kind}:{hashlib.sha256(issuer.encode()).hexdigest()[:32]}"


def _get_json(url: str) -> dict:
    try:
        reply = outbound_fetch(url, headers={"Accept": "application/json"}, timeout=TIMEOUT)
    except OutboundRefused as exc:
        log.warning("sso.oidc.fetch_refused url_host=%s reason=%s", urlsplit(url).hostname, exc.reason)
        raise refused("provider_misconfigured") from None
    except OutboundFailed as exc:
        log.warning("sso.oidc.fetch_failed url_host=%s reason=%s", urlsplit(url).hostname, exc.reason)
        raise refused("provider_unreachable") from None
    if reply.status != 200:
        log.warning("sso.oidc.fetch_status url_host=%s status=%s", urlsplit(url).hostname, reply.status)
        raise refused("provider_unreachable")
    try:
        data = json.loads(reply.body)
    except ValueError:
        raise refused("provider_misconfigured") from None
    if not isinstance(data, dict):
        raise refused("provider_misconfigured")
    return data


def discovery(provider: IdentityProvider) -> dict:
    """The provider's discovery document (`<issuer>/.well-known/openid-configuration`), cached.
    Its `issuer` must be exactly the configured one (OpenID Connect Discovery, section 4.3)."""
    issuer = provider.issuer.rstrip("/")
    cached = cache.get(_key("meta", issuer))
    if cached:
        return cached
    meta = _get_json(f"{issuer}/.well-known/openid-configuration")
    if (meta.get("issuer") or "").rstrip("/") != issuer:
        log.warning("sso.oidc.discovery_issuer_mismatch provider=%s", provider.pk)
        raise refused("provider_misconfigured")
    for field in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(meta.get(field), str) or not meta[field].startswith(("https://", "http://")):
            raise refused("provider_misconfigured")
    cache.set(_key("meta", issuer), meta, DISCOVERY_TTL)
    return meta


def _key_set(provider: IdentityProvider, meta: dict, *, refresh: bool = False) -> KeySet:
    issuer = provider.issuer.rstrip("/")
    data = None if refresh else cache.get(_key("jwks", issuer))
    if data is None:
        data = _get_json(meta["jwks_uri"])
        cache.set(_key("jwks", issuer), data, DISCOVERY_TTL)
    try:
        return KeySet.import_key_set(data)
    except (JoseError, ValueError, TypeError, KeyError):
        raise refused("provider_misconfigured") from None


# --- the authorization request ------------------------------------------------------------------

def authorization_start(provider: IdentityProvider, *, redirect_uri: str, login_hint: str = "") -> tuple[str, dict]:
    """(URL to send the browser to, what the session keeps until the callback): authorization
    code flow with a fresh state, nonce and PKCE verifier (S256)."""
    meta = discovery(provider)
    state, nonce, verifier = generate_token(40), generate_token(40), generate_token(64)
    scopes = ["openid", *[s for s in (provider.scopes or "").split() if s != "openid"]]
    extra = {"nonce": nonce, "code_challenge": create_s256_code_challenge(verifier), "code_challenge_method": "S256"}
    if login_hint:
        extra["login_hint"] = login_hint
    url = prepare_grant_uri(meta["authorization_endpoint"], provider.client_id, "code", redirect_uri=redirect_uri,
                            scope=" ".join(scopes), state=state, **extra)
    pending = {"state": state, "nonce": nonce, "verifier": verifier, "provider": provider.pk,
               "redirect_uri": redirect_uri, "started": int(time.time())}
    return url, pending


# --- the callback -------------------------------------------------------------------------------

def _client_secret(provider: IdentityProvider) -> str:
    if not provider.client_secret_sealed:
        return ""
    try:
        return unseal(provider.client_secret_sealed)
    except SecretUnreadable:
        log.error("sso.oidc.secret_unreadable provider=%s", provider.pk)
        raise refused("provider_misconfigured") from None


def token_exchange(provider: IdentityProvider, *, code: str, pending: dict) -> dict:
    """Trade the authorization code (and the PKCE verifier) for tokens at the token endpoint.
    Client authentication: client_secret_basic, or client_secret_post when the provider lists
    only that; a public client (no secret) sends its client id in the body."""
    meta = discovery(provider)
    secret = _client_secret(provider)
    methods = meta.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    params = {"code": code, "redirect_uri": pending["redirect_uri"], "code_verifier": pending["verifier"]}
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    if secret and ("client_secret_basic" in methods or "client_secret_post" not in methods):
        # RFC 6749 2.3.1: the id and secret are form-encoded before Basic encoding.
        raw = f"{quote(provider.client_id, safe='')}:{quote(secret, safe='')}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
    else:
        params["client_id"] = provider.client_id
        if secret:
            params["client_secret"] = secret
    body = prepare_token_request("authorization_code", **params)
    try:
        reply = outbound_fetch(meta["token_endpoint"], method="POST", body=body.encode(), headers=headers,
                               timeout=TIMEOUT)
    except OutboundRefused:
        raise refused("provider_misconfigured") from None
    except OutboundFailed:
        raise refused("provider_unreachable") from None
    try:
        token = json.loads(reply.body)
    except ValueError:
        token = {}
    if reply.status != 200 or not isinstance(token, dict) or not isinstance(token.get("id_token"), str):
        log.warning("sso.oidc.token_exchange_failed provider=%s status=%s error=%s", provider.pk, reply.status,
                    str(token.get("error", ""))[:40] if isinstance(token, dict) else "")
        raise refused("token_exchange_failed")
    return token


def id_token_validate(provider: IdentityProvider, *, token: dict, nonce: str) -> dict:
    """The ID token's claims, once its signature (the provider's JWKS), issuer, audience (our
    client id; azp when several), expiry and issued-at (LEEWAY seconds of skew), nonce (this
    browser's sign-in) and at_hash are checked. Raises SignInRefused with the reason."""
    meta = discovery(provider)
    offered = meta.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = [a for a in offered if a in SIGNING_ALGORITHMS] or ["RS256"]
    raw = token["id_token"]
    try:
        try:
            decoded = jwt.decode(raw, _key_set(provider, meta), algorithms=algorithms)
        except (InvalidKeyIdError, BadSignatureError):
            # The provider may have rotated its keys since we cached them (an unknown key id, or no
            # key id and the cached key no longer fits): fetch them again, at most once a minute,
            # so a forged token cannot make us hammer the provider.
            if not cache.add(_key("jwks-refresh", provider.issuer), 1, JWKS_REFRESH_MIN):
                raise
            decoded = jwt.decode(raw, _key_set(provider, meta, refresh=True), algorithms=algorithms)
    except (BadSignatureError, InvalidKeyIdError):
        raise refused("bad_signature") from None
    except (JoseError, ValueError, TypeError):
        raise refused("malformed_token") from None
    options = {"iss": {"essential": True, "value": provider.issuer.rstrip("/")},
               "aud": {"essential": True, "values": [provider.client_id]}}
    params = {"nonce": nonce, "client_id": provider.client_id}
    if token.get("access_token"):
        params["access_token"] = token["access_token"]
    claims = CodeIDToken(decoded.claims, decoded.header, options, params)
    try:
        claims.validate(leeway=LEEWAY)
    except ExpiredTokenError:
        raise refused("expired_token") from None
    except ClaimError as exc:
        code = {"iss": "wrong_issuer", "aud": "wrong_audience", "azp": "wrong_audience", "nonce": "bad_nonce",
                "exp": "expired_token"}.get(exc.claim, "malformed_token")
        raise refused(code) from None
    except (JoseError, ValueError, TypeError):
        raise refused("malformed_token") from None
    # A nonce is good for one sign-in, across every browser and process (a stolen token replayed
    # into another session carries a nonce that session never made, and this catches the rest).
    if not cache.add(f"sso:oidc:nonce:{hashlib.sha256(nonce.encode()).hexdigest()}", 1,
                     max(int(claims.get("exp", 0) - time.time()) + LEEWAY, LEEWAY)):
        raise refused("bad_nonce")
    return dict(claims)


def identity_from_claims(provider: IdentityProvider, claims: dict) -> dict:
    """subject, email, name and groups as sign_in_from_identity takes them. An address the
    provider marks as not verified (`email_verified: false`) is refused; a provider that does not
    send the claim (Entra ID) relies on the domain verification (docs/sso.md)."""
    if claims.get("email_verified") is False or claims.get("email_verified") == "false":
        raise refused("email_not_verified")
    email = claims.get("email") or ""
    if not email and "@" in str(claims.get("preferred_username") or ""):
        email = claims["preferred_username"]  # Entra ID without the optional email claim
    groups = claims.get(provider.groups_claim or "groups") or []
    if isinstance(groups, str):
        groups = groups.split()
    if not isinstance(groups, list):
        groups = []
    name = claims.get("name") or " ".join(str(claims.get(k, "")) for k in ("given_name", "family_name")).strip()
    return {"subject": str(claims.get("sub") or ""), "email": str(email), "name": str(name or "")[:150],
            "groups": [g for g in groups if isinstance(g, str)][:500]}


def pending_is_fresh(pending: dict) -> bool:
    """A sign-in started more than PENDING_TTL seconds ago is not finished (a link left open)."""
    return 0 <= time.time() - pending.get("started", 0) <= PENDING_TTL
