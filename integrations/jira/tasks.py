"""Celery tasks of the Jira sync (registered by integrations.apps.ready)."""

from celery import shared_task

from . import services, sync


@shared_task(bind=True, name="integrations.jira.outbox_send", max_retries=sync.MAX_ATTEMPTS, acks_late=True)
def jira_outbox_send(self, outbox_id: int) -> str:
    """One outbox row to Jira; a 429 waits its Retry-After, a 5xx/timeout backs off (row keeps the
    time, so the sweep leaves it alone until then)."""
    try:
        return sync.outbox_attempt(outbox_id)
    except sync.Retry as exc:
        raise self.retry(countdown=exc.countdown, exc=exc) from None


@shared_task(name="integrations.jira.outbox_sweep")
def jira_outbox_sweep() -> int:
    """Every minute: queue outbox rows that are due and were never queued or whose message was lost."""
    return services.outbox_sweep()


@shared_task(name="integrations.jira.delivery_process", acks_late=True)
def jira_delivery_process(delivery_id: int) -> str:
    return sync.delivery_process(delivery_id)


@shared_task(name="integrations.jira.reconcile_all")
def jira_reconcile_all() -> int:
    """Every minute (beat): reconcile each active link by JQL `updated >=` its last reconcile."""
    return services.reconcile_all()


@shared_task(name="integrations.jira.reconcile")
def jira_reconcile(link_id: int) -> str:
    return sync.reconcile(link_id)


@shared_task(name="integrations.jira.connection_test")
def jira_connection_test(connection_id: int) -> str:
    return services.connection_check(connection_id)


@shared_task(name="integrations.jira.link_discover")
def jira_link_discover(link_id: int) -> str:
    return services.link_discover(link_id)


@shared_task(name="integrations.jira.import_preview")
def jira_import_preview(link_id: int) -> str:
    return services.import_preview(link_id)


@shared_task(name="integrations.jira.import_run")
def jira_import_run(link_id: int) -> str:
    return services.import_run(link_id)
