"""`Authorization: Token <key>`: personal API tokens, stored hashed, limited to one workspace.

The hot path is one Redis GET (pmhub/tokencache.py): the token, its owner and its membership are
cached for a few seconds and forgotten on every change; a miss reads them in one query and caches
them. last_used_at is written at most once a minute per token (a Redis SET NX gates the UPDATE).
"""

from datetime import timedelta

from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from ..access import TOKEN_ATTR, WorkspaceRef, memberships_of, remember_memberships
from ..models import ApiToken, User, hash_secret
from ..tokencache import token_entry_add, token_entry_for

LAST_USED_RESOLUTION = timedelta(minutes=1)
# The owner's columns kept in the cache: every one but the password hash (deferred: read on access).
_USER_FIELDS = tuple(f.attname for f in User._meta.concrete_fields if f.attname != "password")
_TOKEN_FIELDS = tuple(f.attname for f in ApiToken._meta.concrete_fields)


def _entry_from_database(key_hash: str) -> dict | None:
    row = (ApiToken.objects.select_related("user").filter(key_hash=key_hash, revoked_at__isnull=True)
           .first())
    if row is None or not row.user.is_active:
        return None
    user = row.user
    setattr(user, TOKEN_ATTR, row)
    refs = memberships_of(user)  # the token's workspace only (one query)
    if refs:
        _touch(row)  # before caching, so the entry carries the time just written
    return {
        "token": tuple(getattr(row, name) for name in _TOKEN_FIELDS),
        "user": tuple(getattr(user, name) for name in _USER_FIELDS),
        "memberships": [(r.id, r.name, r.slug, r.role) for r in refs],
    }


def _objects_from_entry(entry: dict) -> tuple[User, ApiToken]:
    user = User.from_db(DEFAULT_DB_ALIAS, _USER_FIELDS, entry["user"])
    token = ApiToken.from_db(DEFAULT_DB_ALIAS, _TOKEN_FIELDS, entry["token"])
    token.user = user
    setattr(user, TOKEN_ATTR, token)
    remember_memberships(user, [WorkspaceRef(id=ws, name=name, slug=slug, role=role)
                                for ws, name, slug, role in entry["memberships"]])
    return user, token


def _touch(token: ApiToken) -> None:
    now = timezone.now()
    if token.last_used_at is not None and now - token.last_used_at <= LAST_USED_RESOLUTION:
        return
    # Several workers may see the same stale time: only the first in a minute writes.
    minute = int(now.timestamp() // LAST_USED_RESOLUTION.total_seconds())
    if cache.add(f"apitoken-used:{token.pk}:{minute}", 1, int(LAST_USED_RESOLUTION.total_seconds()) * 2):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send the header as: Authorization: Token <key>.")
        try:
            raw = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("Invalid token.")
        key_hash = hash_secret(raw)
        entry = token_entry_for(request, key_hash)  # usually read with the throttle counters
        if entry is None:
            entry = _entry_from_database(key_hash)
            if entry is None:
                raise exceptions.AuthenticationFailed("Invalid or revoked token.")
            if not entry["memberships"]:
                # The owner left or was removed from the token's workspace: refused at once.
                raise exceptions.AuthenticationFailed("This token's owner is no longer a member of its workspace.")
            token_entry_add(key_hash, entry)
        user, token = _objects_from_entry(entry)
        _touch(token)
        return user, token

    def authenticate_header(self, request):
        return self.keyword


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "pmhub.api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Personal API token: `Token pmh_...`",
        }
