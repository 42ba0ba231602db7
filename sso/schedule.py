"""Periodic tasks of this app (none), merged into CELERY_BEAT_SCHEDULE by settings."""

BEAT_SCHEDULE: dict = {}
