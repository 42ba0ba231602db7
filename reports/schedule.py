"""Periodic tasks of this app, merged into CELERY_BEAT_SCHEDULE by settings (no Django imports here)."""

BEAT_SCHEDULE: dict = {
    # Every 5 minutes: a report due at 08:00 goes out by 08:05 in the workspace's time zone.
    "reports-enqueue-due": {"task": "reports.tasks.reports_enqueue_due", "schedule": 300.0},
}
