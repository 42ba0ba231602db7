"""Periodic tasks of this app, merged into CELERY_BEAT_SCHEDULE by settings (no Django imports here)."""

BEAT_SCHEDULE: dict = {
    # Every 5 minutes: a report due at 08:00 goes out by 08:05 in the workspace's time zone.
    "reports-enqueue-due": {"task": "reports.tasks.reports_enqueue_due", "schedule": 300.0},
    # Every minute: webhook deliveries more than 5 minutes overdue (never queued because the broker
    # was down, or their message lost) are queued again.
    "reports-webhook-deliveries-sweep": {"task": "reports.tasks.webhook_deliveries_sweep", "schedule": 60.0},
}
