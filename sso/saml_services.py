"""SAML 2.0 beside the shared single sign-on: an IdentityProvider's SAML side (our SP endpoints
for it, its IdP metadata given as XML or fetched from a URL) and the replay store.

The protocol itself is in sso/saml.py; the pages in sso/saml_views.py; the account, the domain
check and the role in sso.services.sign_in_from_identity, shared with OIDC.
See docs/decisions/1810-1814 and docs/sso.md ("SAML 2.0").
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from pmhub.outbound import OutboundFailed, OutboundRefused, outbound_fetch

from .models import IdentityProvider
from .saml import (
    CLOCK_SKEW_SECONDS,
    DEFAULT_EMAIL_ATTRIBUTES,
    DEFAULT_GROUPS_ATTRIBUTES,
    DEFAULT_NAME_ATTRIBUTES,
    MAX_METADATA_BYTES,
    IdpMetadata,
    SamlMetadataInvalid,
    SamlSp,
    idp_metadata_read,
)

log = logging.getLogger("pmhub.sso")

METADATA_FETCH_TIMEOUT = 10.0


def saml_entity_id(provider: IdentityProvider) -> str:
    """Our (SP) entity id for this provider: the URL of our metadata for it, the usual choice,
    so an IdP that is given the entity id can also fetch the rest from it. One per provider, so two
    providers (two IdPs, or two workspaces on one IdP tenant) never accept each other's answers."""
    return settings.SITE_URL + reverse("sso:saml_metadata", args=[provider.pk])


def saml_acs_url(provider: IdentityProvider) -> str:
    return settings.SITE_URL + reverse("sso:saml_callback", args=[provider.pk])


def _names(configured: str, defaults: tuple[str, ...]) -> tuple[str, ...]:
    configured = (configured or "").strip()
    return (configured, *[d for d in defaults if d != configured]) if configured else defaults


def saml_sp_for(provider: IdentityProvider) -> SamlSp:
    """The protocol module's view of a provider. The owner's attribute names come first, then the
    defaults that cover Okta, Entra ID, Google Workspace and Keycloak."""
    return SamlSp(
        entity_id=saml_entity_id(provider),
        acs_url=saml_acs_url(provider),
        idp_metadata_xml=provider.metadata_xml or "",
        email_attributes=_names(provider.email_attribute, DEFAULT_EMAIL_ATTRIBUTES),
        name_attributes=_names(provider.name_attribute, DEFAULT_NAME_ATTRIBUTES),
        groups_attributes=_names(provider.groups_claim, DEFAULT_GROUPS_ATTRIBUTES),
    )


def saml_metadata_check(xml: str) -> IdpMetadata:
    """Save-time check of pasted metadata (forms and API). Raises SamlMetadataInvalid(reason)."""
    return idp_metadata_read(xml)


@transaction.atomic
def saml_metadata_store(*, provider: IdentityProvider, xml: str) -> IdentityProvider:
    """Keep checked metadata on the provider, with the IdP's entity id read from it."""
    metadata = idp_metadata_read(xml)
    IdentityProvider.objects.filter(pk=provider.pk).update(
        metadata_xml=xml, entity_id=metadata.entity_id, metadata_fetched_at=timezone.now(), metadata_error="")
    provider.metadata_xml, provider.entity_id = xml, metadata.entity_id
    provider.metadata_error = ""
    return provider


def saml_metadata_refresh(*, provider_id: int) -> str:
    """Fetch a provider's metadata URL (the worker does this after a save and every night: IdPs
    rotate their signing certificates through it) and keep it when it is valid. A failure keeps
    the last good metadata, so sign-in goes on, and records a short reason the settings page shows.
    Returns "" on success, else that reason."""
    provider = IdentityProvider.objects.filter(pk=provider_id, protocol=IdentityProvider.Protocol.SAML).first()
    if provider is None or not provider.metadata_url:
        return ""
    reason = ""
    try:
        reply = outbound_fetch(provider.metadata_url, timeout=METADATA_FETCH_TIMEOUT, max_bytes=MAX_METADATA_BYTES,
                               headers={"Accept": "application/samlmetadata+xml, application/xml, text/xml"})
        if reply.status != 200:
            reason = f"the metadata URL answered HTTP {reply.status}"
        else:
            saml_metadata_store(provider=provider, xml=reply.body.decode("utf-8"))
    except (OutboundRefused, OutboundFailed) as exc:
        reason = f"the metadata URL could not be fetched ({exc.reason})"
    except UnicodeDecodeError:
        reason = "the metadata is not UTF-8 text"
    except SamlMetadataInvalid as exc:
        reason = exc.reason
    if reason:
        IdentityProvider.objects.filter(pk=provider.pk).update(metadata_error=reason[:300])
        log.warning("sso.saml.metadata_refresh_failed provider=%s reason=%s", provider.pk, reason)
    else:
        log.info("sso.saml.metadata_refreshed provider=%s", provider.pk)
    return reason


def saml_assertion_claim(*, provider_id: int, assertion_id: str, expires_at: datetime) -> bool:
    """Remember an accepted assertion until it expires (plus the clock skew): True the first time,
    False for a replay. `cache.add` is atomic in Redis, so two posts of one answer racing each other
    get one True between them."""
    seconds = (expires_at - datetime.now(UTC)).total_seconds() + CLOCK_SKEW_SECONDS
    return cache.add(f"sso:saml:seen:{provider_id}:{assertion_id}", 1, timeout=max(int(seconds), 1) + 1)


def saml_providers_with_metadata_url() -> list[int]:
    return list(IdentityProvider.objects.filter(protocol=IdentityProvider.Protocol.SAML, enabled=True)
                .exclude(metadata_url="").values_list("pk", flat=True))


def saml_provider_clean(clean: dict, *, instance: IdentityProvider | None) -> dict:
    """The SAML part of a provider's validation (sso.services._provider_clean calls it): metadata
    as XML or a URL (or both: the XML is used until the URL's copy arrives). Pasted XML is checked
    now and gives the IdP's entity id; a URL is fetched by the worker after the save."""
    from django.core.exceptions import ValidationError

    xml = clean.get("metadata_xml", instance.metadata_xml if instance else "") or ""
    url = clean.get("metadata_url", instance.metadata_url if instance else "") or ""
    if not xml.strip() and not url.strip():
        raise ValidationError({"metadata_url": "A SAML provider needs its metadata: a URL or the XML."})
    if "metadata_xml" in clean and xml.strip():
        try:
            metadata = idp_metadata_read(xml)
        except SamlMetadataInvalid as exc:
            raise ValidationError({"metadata_xml": f"This metadata cannot be used: {exc.reason}."}) from None
        clean["metadata_xml"] = xml.strip()
        clean["entity_id"] = metadata.entity_id
    elif "metadata_xml" in clean:
        clean["metadata_xml"] = ""
    for key in ("email_attribute", "name_attribute"):
        if key in clean:
            clean[key] = (clean[key] or "").strip()
    return clean


def saml_provider_saved(provider: IdentityProvider) -> None:
    """After a provider is saved: fetch its metadata URL in the worker, after the commit (so saving
    is also how an owner re-fetches it at once)."""
    if provider.protocol != IdentityProvider.Protocol.SAML or not provider.metadata_url:
        return
    from pmhub.celery import queue_or_leave

    from .saml_tasks import saml_metadata_refresh

    transaction.on_commit(lambda: queue_or_leave(saml_metadata_refresh, provider.pk))


def saml_http_sso_origins(*, limit: int = 50) -> set[str]:
    """http:// origins of enabled SAML providers' sign-in addresses whose host the operator allowed
    (OUTBOUND_ALLOWED_HOSTS): the "Continue with SSO" page's form-action admits them like OIDC's
    http issuers (sso.views.start_page_policy). https origins are admitted anyway."""
    from urllib.parse import urlsplit

    from pmhub.outbound import outbound_host_listed

    origins = set()
    for xml in (IdentityProvider.objects.filter(enabled=True, protocol=IdentityProvider.Protocol.SAML,
                                                metadata_xml__contains="http://")
                .values_list("metadata_xml", flat=True)[:limit]):
        try:
            url = idp_metadata_read(xml).sso_redirect_url
        except SamlMetadataInvalid:
            continue
        parts = urlsplit(url)
        if parts.scheme == "http" and parts.hostname and outbound_host_listed(url):
            origins.add(f"http://{parts.netloc}")
    return origins
