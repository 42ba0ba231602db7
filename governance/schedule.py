"""Periodic tasks of this app, merged into CELERY_BEAT_SCHEDULE by settings (no Django imports here)."""

BEAT_SCHEDULE: dict = {
    # Owners of risks and issues whose review date has passed (once per review date).
    "governance-risk-reviews-due": {"task": "governance.tasks.risks_review_due_notify", "schedule": 60 * 60.0},
    # Proposals of the decline stage from months of falling adoption and KPIs.
    "governance-lifecycle-proposals": {"task": "governance.tasks.lifecycle_proposals", "schedule": 24 * 60 * 60.0},
}
