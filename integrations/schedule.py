"""Periodic tasks of this app (none yet: channel deliveries ride on the reports sweep of the shared
delivery outbox), merged into CELERY_BEAT_SCHEDULE by settings."""

BEAT_SCHEDULE: dict = {}
