"""Periodic tasks of this app, merged into CELERY_BEAT_SCHEDULE by settings (no Django imports here)."""

BEAT_SCHEDULE: dict = {
    # The session index (decision 1821) forgets sessions that expired or were signed out.
    "scim-session-index-prune": {"task": "scim.tasks.session_index_prune", "schedule": 24 * 60 * 60.0},
}
