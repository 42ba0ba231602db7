"""Celery tasks of the backlog app: thin, take ids, idempotent (a rerun recomputes the same)."""

from celery import shared_task

from pmhub.services import job_finish


@shared_task(acks_late=True, soft_time_limit=600, time_limit=660)
def rescore_product(product_id: int, job_id: int | None = None) -> int:
    """Re-score every story and epic of a product after its scoring model changed."""
    from . import services

    try:
        return services.rescore_product(product_id=product_id, job_id=job_id)
    except Exception as exc:  # report on the job, then let Celery record the failure
        if job_id:
            job_finish(job_id=job_id, failed=True, message=str(exc))
        raise


@shared_task(acks_late=True, soft_time_limit=300, time_limit=330)
def rebalance_product(product_id: int) -> int:
    """Rewrite a product's rank keys evenly when they have grown long."""
    from . import services

    return services.rebalance(product_id=product_id)


@shared_task(acks_late=True, soft_time_limit=120, time_limit=150)
def compact_story_tallies() -> int:
    """Fold the progress tally's appended rows (decision 2040); periodic (backlog/schedule.py)."""
    from . import services

    return services.compact_story_tallies()
