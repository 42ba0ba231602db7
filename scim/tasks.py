"""Celery tasks of the scim app: thin and idempotent."""

from celery import shared_task

from . import services


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def session_index_prune() -> int:
    """Beat, daily: drop the session index rows of sessions that no longer exist."""
    return services.session_index_prune()
