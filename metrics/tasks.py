"""Celery tasks of the metrics app: thin, ids only, idempotent."""

from celery import shared_task
from celery.contrib.django.task import DjangoTask as Task


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def kpi_evaluate_health(kpi_id: int) -> str:
    """Evaluate one KPI's health (a second run with the same data records nothing)."""
    from .services import kpi_health_evaluate

    record = kpi_health_evaluate(kpi_id=kpi_id)
    return record.status if record else "unchanged"


@shared_task(acks_late=True)
def kpis_evaluate_all() -> int:
    """Beat: evaluate every KPI, catching any evaluation that was missed (a lost task, rows changed
    outside the services). Health is judged on the latest period's end date, so a run without new
    data changes nothing. Fans out one small task per KPI, so one failing KPI holds up no other."""
    from .models import Kpi

    ids = list(Kpi.objects.filter(product__deleted_at__isnull=True).values_list("id", flat=True))
    for kpi_id in ids:
        kpi_evaluate_health.delay(kpi_id)
    return len(ids)


class _UploadParseTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        """An unexpected error (not a bad file): the upload shows why instead of polling forever."""
        from .services import upload_parse_give_up

        upload_parse_give_up(upload_id=args[0] if args else kwargs["upload_id"])


@shared_task(base=_UploadParseTask, acks_late=True, reject_on_worker_lost=True, max_retries=3,
             autoretry_for=(ConnectionError,), retry_backoff=True)
def measurement_upload_parse(upload_id: int) -> str:
    """Parse an uploaded measurements CSV into its staging row; a second run does nothing."""
    from .services import upload_parse

    return upload_parse(upload_id=upload_id)
