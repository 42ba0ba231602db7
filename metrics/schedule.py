"""Periodic tasks of this app, merged into CELERY_BEAT_SCHEDULE by settings (no Django imports here)."""

BEAT_SCHEDULE: dict = {
    "metrics-evaluate-kpi-health": {"task": "metrics.tasks.kpis_evaluate_all", "schedule": 3600.0},
}
