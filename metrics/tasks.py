"""Celery tasks of the metrics app: thin, ids only, idempotent."""

from celery import shared_task


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def kpi_evaluate_health(kpi_id: int) -> str:
    """Evaluate one KPI's health (a second run with the same data records nothing)."""
    from .services import kpi_health_evaluate

    record = kpi_health_evaluate(kpi_id=kpi_id)
    return record.status if record else "unchanged"


@shared_task(acks_late=True)
def kpis_evaluate_all() -> int:
    """Beat: evaluate every KPI (the line to the target moves with the calendar even without new
    data). Fans out one small task per KPI, so a slow or failing KPI does not hold up the others."""
    from .models import Kpi

    ids = list(Kpi.objects.filter(product__deleted_at__isnull=True).values_list("id", flat=True))
    for kpi_id in ids:
        kpi_evaluate_health.delay(kpi_id)
    return len(ids)
