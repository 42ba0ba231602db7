"""Periodic tasks of this app, merged into CELERY_BEAT_SCHEDULE by settings (no Django imports here)."""

BEAT_SCHEDULE: dict = {
    # Yesterday and today (workspace-local) for every product, plus days left pending.
    "adoption-rollup-recent": {"task": "adoption.tasks.rollup_recent", "schedule": 15 * 60.0},
    # Outcome reviews whose 30- or 90-day checkpoint is due.
    # Usage-event partitions: the coming months made, the expired ones retired (retention setting).
    "adoption-event-partitions": {"task": "adoption.tasks.event_partitions_maintain", "schedule": 24 * 60 * 60.0},
    "adoption-outcome-reviews-due": {"task": "adoption.tasks.outcome_reviews_measure_due", "schedule": 60 * 60.0},
}
