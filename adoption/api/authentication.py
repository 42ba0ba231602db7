"""Ingestion keys: `Authorization: Bearer <key>` or `X-PMHub-Ingestion-Key: <key>`.

Used only by the event ingestion endpoint. The key is not a user: `request.user` is an
anonymous principal and `request.auth` the IngestionKey, which names the one product it may
write to. User API tokens are not accepted there, and ingestion keys are not accepted anywhere else.
"""

from datetime import timedelta

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from ..models import IngestionKey
from ..services import ingestion_key_authenticate

LAST_USED_RESOLUTION = timedelta(minutes=1)
HEADER = "HTTP_X_PMHUB_INGESTION_KEY"


class IngestionPrincipal(AnonymousUser):
    """Who sent the request: a product's ingestion key, not a person."""

    def __init__(self, key: IngestionKey):
        super().__init__()
        self.ingestion_key = key

    def __str__(self):
        return f"ingestion key {self.ingestion_key.prefix}…"


class IngestionKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        raw = request.META.get(HEADER, "").strip()
        if not raw:
            header = authentication.get_authorization_header(request).split()
            if not header or header[0].lower() != self.keyword.lower().encode():
                return None
            if len(header) != 2:
                raise exceptions.AuthenticationFailed("Send the header as: Authorization: Bearer <ingestion key>.")
            try:
                raw = header[1].decode()
            except UnicodeError:
                raise exceptions.AuthenticationFailed("Invalid ingestion key.")
        key = ingestion_key_authenticate(raw)
        if key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked ingestion key.")
        now = timezone.now()
        if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
            IngestionKey.objects.filter(pk=key.pk).update(last_used_at=now)
        return IngestionPrincipal(key), key

    def authenticate_header(self, request):
        return self.keyword


class HasIngestionKey(permissions.BasePermission):
    message = "Send a product ingestion key: Authorization: Bearer <key> or X-PMHub-Ingestion-Key."

    def has_permission(self, request, view):
        return isinstance(request.auth, IngestionKey)


class IngestionKeyScheme(OpenApiAuthenticationExtension):
    target_class = "adoption.api.authentication.IngestionKeyAuthentication"
    name = "ingestionKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer",
                "description": "A product's ingestion key (pmhi_...), from the product's Adoption > Ingestion keys "
                               "page. Also accepted as the X-PMHub-Ingestion-Key header."}
