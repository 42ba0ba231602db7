"""Celery tasks of the reports app: thin, ids only, idempotent (state rows guard every send)."""

import smtplib

from celery import shared_task
from celery.contrib.django.task import DjangoTask as Task
from celery.utils.time import get_exponential_backoff_interval

from . import services

SMTP_ERRORS = (smtplib.SMTPException, OSError)


class _ReportSendTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        """Retries exhausted (or an unexpected error): the run fails visibly, the owner is notified."""
        services.report_run_fail(run_id=args[0] if args else kwargs["run_id"], error=f"{type(exc).__name__}: {exc}")


@shared_task(bind=True, base=_ReportSendTask, autoretry_for=SMTP_ERRORS, retry_backoff=30, retry_backoff_max=1800,
             retry_jitter=True, max_retries=5, acks_late=True, reject_on_worker_lost=True)
def report_run_send(self, run_id: int) -> str:
    """Mail a report run to its recipients; a second run of this task mails nobody twice."""
    try:
        outcome = services.report_run_deliver(run_id=run_id)
    except services.ClaimHeld as exc:
        # Another worker holds a fresh claim (or died holding it): look again after the lease.
        raise self.retry(exc=exc, countdown=services.send_lease().total_seconds() + 1, max_retries=20)
    # The e-mails are out: now the run's PDF (queued after them, so a batch of sends is not held up
    # behind WeasyPrint; a download before that asks for it itself). Decision 1420.
    services.report_run_pdf_request(run_id=run_id)
    return outcome


@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=(OSError,), retry_backoff=5, max_retries=3)
def report_run_pdf(run_id: int) -> str:
    """Render and store a run's PDF (WeasyPrint, 0.7-2 s): downloads answer the stored bytes."""
    return services.report_run_pdf_render(run_id=run_id)


@shared_task(name="reports.tasks.reports_enqueue_due")
def reports_enqueue_due() -> int:
    return services.reports_enqueue_due()


@shared_task(bind=True, autoretry_for=SMTP_ERRORS, retry_backoff=30, retry_backoff_max=1800, max_retries=5,
             acks_late=True, reject_on_worker_lost=True)
def notification_email_send(self, notification_id: int) -> str:
    return services.notification_email_deliver(notification_id=notification_id)


class _WebhookTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        if isinstance(exc, services.WebhookClaimHeld):
            return  # another worker is sending it: not a failed delivery
        services.webhook_delivery_give_up(delivery_id=args[0] if args else kwargs["delivery_id"])


@shared_task(bind=True, base=_WebhookTask, max_retries=6, acks_late=True, reject_on_worker_lost=True)
def webhook_deliver(self, delivery_id: int) -> str:
    """One signed POST per attempt; retried with exponential backoff (10 s, 20 s, ... 320 s, with
    full jitter). The retry time is written on the delivery first, so the beat sweep leaves it alone."""
    try:
        return services.webhook_attempt(delivery_id=delivery_id)
    except services.WebhookClaimHeld as exc:
        # A redelivered message whose first worker died mid-POST (its claim not yet stale), or a
        # second message from the sweep: look again when the lease is over (from the same retry
        # budget; once spent, the delivery stays pending for the sweep, see on_failure).
        raise self.retry(exc=exc, countdown=exc.retry_in)
    except services.WebhookAttemptFailed as exc:
        if exc.permanent or self.request.retries >= self.max_retries:
            raise  # on_failure gives the delivery up
        countdown = get_exponential_backoff_interval(factor=10, retries=self.request.retries, maximum=3600,
                                                     full_jitter=True)
        if exc.retry_after is not None:  # a 429/503 that said when: never sooner than asked
            countdown = max(countdown, exc.retry_after)
        services.webhook_retry_schedule(delivery_id=delivery_id, countdown=countdown)
        raise self.retry(exc=exc, countdown=countdown)


@shared_task(name="reports.tasks.webhook_deliveries_sweep")
def webhook_deliveries_sweep() -> int:
    return services.webhook_deliveries_sweep()
