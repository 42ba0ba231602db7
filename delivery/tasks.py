"""Celery tasks of the delivery app: thin, ids only, idempotent (the service guards itself)."""

from celery import shared_task
from celery.contrib.django.task import DjangoTask as Task


@shared_task(acks_late=True, max_retries=3, autoretry_for=(ConnectionError,), retry_backoff=True)
def import_run(import_job_id: int) -> dict:
    from . import services

    return services.import_run(import_job_id=import_job_id)


class _ImportParseTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        """An unexpected error (not a refused file): the job fails visibly instead of polling forever."""
        from . import services

        services.import_parse_give_up(import_job_id=args[0] if args else kwargs["import_job_id"])


@shared_task(base=_ImportParseTask, acks_late=True, reject_on_worker_lost=True, max_retries=3,
             autoretry_for=(ConnectionError,), retry_backoff=True)
def import_parse(import_job_id: int) -> str:
    """Decode and parse an uploaded file (up to 20 MB) into staged rows; a retry does nothing twice."""
    from . import services

    return services.import_parse(import_job_id=import_job_id)
