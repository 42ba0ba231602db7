"""Periodic tasks of this app, merged into CELERY_BEAT_SCHEDULE by settings (no Django imports here)."""

BEAT_SCHEDULE: dict = {
    # The product progress tally's appended rows folded into one per product and status (decision 2040).
    "backlog-compact-story-tallies": {"task": "backlog.tasks.compact_story_tallies", "schedule": 10 * 60.0},
}
