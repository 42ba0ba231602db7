"""The Celery app. Configuration lives in settings (CELERY_* keys); see docs/decisions/0003-workers.md."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pmhub.settings")

app = Celery("pmhub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_init.connect
@signals.beat_init.connect
def _refuse_unsafe_setup(**kwargs):
    """A worker signs and mails links (reports, sign-up, invitations): same rule as the web process."""
    from django.core.exceptions import ImproperlyConfigured

    from .checks import require_safe_setup

    try:
        require_safe_setup()
    except ImproperlyConfigured as exc:
        # Celery logs and swallows an Exception raised by a signal handler; SystemExit stops it.
        raise SystemExit(str(exc)) from None


@signals.worker_ready.connect
def _warm_api_schema(sender=None, **kwargs):
    """A booted worker has the API document rendered into the shared cache (decision 1421); a
    queued task, so the worker's own start is not held up, and any worker may run it."""
    from .tasks import api_schema_warm

    queue_or_leave(api_schema_warm)


def queue_or_leave(task, *args) -> bool:
    """`task.delay(*args)` for work whose rows are already committed and that a beat sweep picks up
    when it was not queued (adoption's pending days, reports' pending webhook deliveries): a broker
    that is down must not turn a committed write into an error. Returns whether it was queued."""
    import logging

    from kombu.exceptions import OperationalError
    from redis.exceptions import RedisError

    try:
        task.delay(*args)
    except (OperationalError, RedisError, OSError) as exc:
        logging.getLogger("pmhub.celery").warning("%s%r not queued (%s); its sweep will queue it", task.name, args, exc)
        return False
    except Exception as exc:
        if not task.app.conf.task_always_eager:
            raise
        # Embedded mode runs the task inside the request: its failure (a receiver that does not
        # answer, its retries) is the task's to record on its rows, never the request's 500.
        logging.getLogger("pmhub.celery").warning("%s%r failed in eager mode (%s)", task.name, args, exc)
    return True
