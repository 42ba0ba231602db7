"""GitHub App authentication (docs/decisions/1721): an RS256 JWT signed with the App's private key
(joserfc), exchanged for an installation access token (POST /app/installations/{id}/access_tokens),
which is cached (sealed, in the cache) until five minutes before GitHub says it expires."""

from __future__ import annotations

import json
import time
from datetime import datetime

from django.core.cache import cache

from pmhub.outbound import OutboundFailed, OutboundRefused, outbound_request
from pmhub.secretbox import seal, unseal

from ..jira.client import JiraError

TIMEOUT = 20.0
USER_AGENT = "PMHub-GitHub/1"
API_VERSION = "2022-11-28"
EARLY = 300  # seconds before expiry at which a cached token is no longer used


def app_jwt(*, app_id: int, private_key_pem: str, now: float | None = None) -> str:
    """GitHub's App JWT: issued a minute in the past (clock drift), valid nine minutes (at most ten)."""
    from joserfc import jwt
    from joserfc.jwk import RSAKey

    now = int(now if now is not None else time.time())
    key = RSAKey.import_key(private_key_pem)
    return jwt.encode({"alg": "RS256", "typ": "JWT"}, {"iat": now - 60, "exp": now + 540, "iss": str(app_id)}, key)


def _cache_key(installation) -> str:
    return f"github:installation-token:{installation.app_id}:{installation.installation_id}"


def installation_token_forget(installation) -> None:
    cache.delete(_cache_key(installation))


def installation_token(installation) -> str:
    """A token for the installation's repositories: the cached one, or a new one from GitHub."""
    cached = cache.get(_cache_key(installation))
    if isinstance(cached, str):
        return unseal(cached)
    app = installation.app
    try:
        token_jwt = app_jwt(app_id=app.app_id, private_key_pem=unseal(app.private_key_sealed))
    except ValueError:
        raise JiraError(
            "The GitHub App's private key cannot be read: paste the .pem file GitHub gave.", kind="auth"
        ) from None
    url = f"{app.api_url.rstrip('/')}/app/installations/{installation.installation_id}/access_tokens"
    headers = {
        "Authorization": f"Bearer {token_jwt}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": API_VERSION,
        "User-Agent": USER_AGENT,
    }
    try:
        reply = outbound_request("POST", url, headers=headers, body=None, timeout=TIMEOUT)
    except OutboundRefused as exc:
        raise JiraError(f"GitHub's address is not allowed: {exc.reason}.", kind="client") from None
    except OutboundFailed as exc:
        raise JiraError(f"GitHub did not answer ({exc.reason}).", kind="transient") from None
    if reply.status in (401, 403, 404):
        raise JiraError(
            f"GitHub refused the App's credentials for installation {installation.installation_id} "
            f"({reply.status}): check the App id and private key, or whether the App was uninstalled.",
            kind="auth",
            status=reply.status,
        )
    if reply.status == 429 or reply.status >= 500:
        raise JiraError(
            f"GitHub could not give an installation token ({reply.status}).",
            kind="rate" if reply.status == 429 else "transient",
            status=reply.status,
            retry_after=reply.retry_after,
        )
    if reply.status != 201:
        raise JiraError(f"GitHub refused the installation token ({reply.status}).", kind="client", status=reply.status)
    data = json.loads(reply.body.decode("utf-8"))
    token = str(data["token"])
    try:
        expires = datetime.fromisoformat(str(data.get("expires_at"))).timestamp()
    except ValueError:
        expires = time.time() + 3600
    ttl = int(expires - time.time() - EARLY)
    if ttl > 0:
        cache.set(_cache_key(installation), seal(token), ttl)
    return token
