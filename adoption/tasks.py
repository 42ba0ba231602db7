"""Celery tasks of the adoption app: thin, ids only, idempotent (a rerun recomputes the same rows)."""

from datetime import date, timedelta

from celery import shared_task
from django.utils import timezone

from pmhub.clock import today_in

from . import rollups, services


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def rollup_day(product_id: int, day: str) -> dict | None:
    """Recompute one product's local day, then write adoption % into linked KPIs."""
    from roadmaps.models import Product

    product = Product.objects.select_related("workspace").filter(pk=product_id).first()
    if product is None:
        return None
    tz_name = product.workspace.time_zone
    result = rollups.rollup_day(product_id=product_id, day=date.fromisoformat(day), tz_name=tz_name)
    # The stored windows first: the KPI sync reads the adoption % from them (docs/decisions/1913).
    _windows_refresh(product_id, tz_name)
    services.feature_kpis_sync(product_id=product_id, tz_name=tz_name)
    return result


def _windows_refresh(product_id: int, tz_name: str) -> None:
    """The dashboards' 30/90/365-day funnels ending today (local), from the fresh rollups."""
    rollups.windows_refresh(product_id=product_id, end=today_in(tz_name))


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def rollup_span(product_id: int, first: str, last: str, full: bool = False) -> dict | None:
    """Recompute every local day of [first, last] (a backfill, or after the workspace's time zone
    changed) in one transaction, set-based; then write adoption % into linked KPIs. `full`
    rebuilds every stored row of the span instead of the changed ones (the repair command)."""
    from roadmaps.models import Product

    product = Product.objects.select_related("workspace").filter(pk=product_id).first()
    if product is None:
        return None
    tz_name = product.workspace.time_zone
    result = rollups.rollup_range(product_id=product_id, first=date.fromisoformat(first),
                                  last=date.fromisoformat(last), tz_name=tz_name, full=full)
    # The stored windows first: the KPI sync reads the adoption % from them (docs/decisions/1913).
    _windows_refresh(product_id, tz_name)
    services.feature_kpis_sync(product_id=product_id, tz_name=tz_name)
    return result


@shared_task
def rollup_recent() -> int:
    """Beat: queue rollups of yesterday and today (local) for every live product, and of any day
    still pending for more than five minutes (a lost message never leaves a day stale)."""
    from roadmaps.models import Product

    from .models import TouchedDay

    queued = set()
    for product_id, tz_name in Product.objects.alive().values_list("id", "workspace__time_zone"):
        today = today_in(tz_name)
        for day in (today - timedelta(days=1), today):
            queued.add((product_id, day.isoformat()))
    stale = timezone.now() - timedelta(minutes=5)
    stale_days = TouchedDay.objects.filter(pending=True, touched_at__lt=stale).values_list("product_id", "day")
    for product_id, day in stale_days:
        queued.add((product_id, day.isoformat()))
    for product_id, day in sorted(queued):
        rollup_day.delay(product_id, day)
    return len(queued)


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def outcome_reviews_open(release_id: int) -> int:
    """Record KPI baselines for the epics (and their initiatives) of a shipped release."""
    return services.outcome_reviews_open_for_release(release_id=release_id)


@shared_task
def outcome_reviews_measure_due() -> int:
    """Beat: measure the 30- and 90-day checkpoints that are due."""
    return services.outcome_checkpoints_measure_due()


@shared_task
def event_partitions_maintain() -> dict:
    """Beat (daily): create the usage-event partitions of the coming months and retire (detach
    without blocking ingestion, then drop) the months older than ADOPTION_EVENT_RETENTION_MONTHS.
    A no-op on SQLite. See adoption/partitions.py."""
    from . import partitions

    return partitions.maintain(timezone.now())
