"""Celery tasks of the governance app: thin, ids only, idempotent (the risk row remembers what
was notified, so a retried or duplicated task tells nobody twice)."""

from celery import shared_task

from pmhub.clock import today_in

from . import services


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def risk_appetite_check(risk_id: int) -> bool:
    """After a register item changed: notify its owner if it is now above the appetite."""
    return services.risk_appetite_notify(risk_id=risk_id)


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def product_appetite_check(product_id: int) -> int:
    """After a product's appetite changed: check each of its open items."""
    from .models import Risk

    ids = Risk.objects.filter(product_id=product_id).exclude(status=Risk.Status.CLOSED).values_list("id", flat=True)
    return sum(services.risk_appetite_notify(risk_id=i) for i in list(ids))


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def risks_review_due_notify() -> int:
    """Beat, hourly: owners of items whose review date passed (workspace-local day) are told once."""
    sent = 0
    for risk_id in services.risks_review_due(today_for=today_in):
        from .models import Risk

        tz = Risk.objects.filter(pk=risk_id).values_list("product__workspace__time_zone", flat=True).first()
        if tz is not None:
            sent += services.risk_review_notify(risk_id=risk_id, today=today_in(tz))
    return sent


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def statement_approvers_notify(statement_id: int) -> int:
    """A statement was submitted: tell its approvers (once per revision)."""
    return services.statement_approvers_notify_once(statement_id=statement_id)


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def statement_decision_notify(decision_id: int) -> bool:
    """An approver decided: tell the requester (once per decision)."""
    return services.statement_requester_notify_once(decision_id=decision_id)


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def lifecycle_proposals() -> int:
    """Beat, daily: each live product in introduction, growth or maturity is checked against its
    evidence (months of KPI and adoption decline); a proposal is made at most once while open."""
    from roadmaps.models import Product

    from .lifecycle import WATCHED

    made = 0
    for product_id, stage, tz in (Product.objects.alive().values_list(
            "id", "governance__stage", "workspace__time_zone")):
        if (stage or "growth") in WATCHED:
            made += services.lifecycle_evaluate(product_id=product_id, today=today_in(tz)) is not None
    return made
