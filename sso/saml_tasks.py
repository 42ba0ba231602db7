"""Celery tasks of the SAML side (imported by SsoConfig.ready so the worker registers them)."""

from celery import shared_task

from . import saml_services


@shared_task(name="sso.saml_metadata_refresh", acks_late=True, reject_on_worker_lost=True, soft_time_limit=50,
             time_limit=60)
def saml_metadata_refresh(provider_id: int) -> str:
    """Fetch one provider's metadata URL; a failure is recorded on the provider, not retried here
    (the nightly sweep tries again, and the last good metadata stays in use)."""
    return saml_services.saml_metadata_refresh(provider_id=provider_id) or "ok"


@shared_task(name="sso.saml_metadata_refresh_all", acks_late=True, soft_time_limit=100, time_limit=120)
def saml_metadata_refresh_all() -> int:
    """Nightly: every SAML provider with a metadata URL (IdPs publish renewed certificates there)."""
    ids = saml_services.saml_providers_with_metadata_url()
    for provider_id in ids:
        saml_metadata_refresh.delay(provider_id)
    return len(ids)
