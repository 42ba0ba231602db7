"""Celery tasks of the delivery app: thin, ids only, idempotent (the service guards itself)."""

from celery import shared_task


@shared_task(acks_late=True, max_retries=3, autoretry_for=(ConnectionError,), retry_backoff=True)
def import_run(import_job_id: int) -> dict:
    from . import services

    return services.import_run(import_job_id=import_job_id)
