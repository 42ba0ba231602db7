"""Conditional GETs of list endpoints: a weak ETag on every list page, 304 on If-None-Match.

The ETag is a hash of what decides the answer for this caller: the rendered page itself (so any
change of a row, of a related name or of a computed figure changes it, and a stale 304 is
impossible), the path and query string, and the caller's workspaces with their role and the
token's scope (two workspaces or two roles never share a tag, even for identical pages, so a tag
says nothing about another tenant). The page is still built; a 304 saves sending and parsing it.
Responses are `Cache-Control: private, no-cache` with `Vary: Authorization, Cookie`: a shared
cache never stores them, a client revalidates each time. See docs/decisions/1902-list-etags.md.
"""

from __future__ import annotations

import hashlib

from django.http import HttpResponseNotModified
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.http import parse_etags

from ..access import TOKEN_ATTR, memberships_of

ETAG_VERSION = b"1"


def list_etag(request, body: bytes) -> str:
    user = request.user
    digest = hashlib.blake2b(ETAG_VERSION, digest_size=16)
    digest.update(request.get_full_path().encode())
    digest.update(b"\0" + (request.META.get("HTTP_ACCEPT") or "").encode())
    token = getattr(user, TOKEN_ATTR, None)
    scope = f"t{token.pk}:{token.scope}" if token is not None else f"u{getattr(user, 'pk', '')}"
    digest.update(f"\0{scope}\0".encode())
    for ref in memberships_of(user):
        digest.update(f"{ref.id}:{ref.role};".encode())
    digest.update(b"\0")
    digest.update(body)
    return f'W/"{digest.hexdigest()}"'


def _matches(header: str, etag: str) -> bool:
    if header.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(tag.removeprefix("W/") == bare for tag in parse_etags(header))


def conditional_list_response(request, response):
    """Tag a successful GET/HEAD list answer; answer 304 (no body) when the client holds it."""
    if request.method not in ("GET", "HEAD") or response.status_code != 200:
        return response
    response.render()
    etag = list_etag(request, response.content)
    patch_vary_headers(response, ("Authorization", "Cookie"))
    patch_cache_control(response, private=True, no_cache=True)
    header = request.META.get("HTTP_IF_NONE_MATCH")
    if header and _matches(header, etag):
        not_modified = HttpResponseNotModified()
        for name in ("Vary", "Cache-Control"):
            not_modified[name] = response[name]
        not_modified["ETag"] = etag
        return not_modified
    response["ETag"] = etag
    return response
