"""Periodic tasks of this app, merged into CELERY_BEAT_SCHEDULE by settings."""

from celery.schedules import crontab

BEAT_SCHEDULE: dict = {
    # SAML IdPs publish renewed signing certificates at their metadata URL (sso/saml_tasks.py).
    "sso-saml-metadata-refresh": {"task": "sso.saml_metadata_refresh_all", "schedule": crontab(hour=3, minute=40)},
}
