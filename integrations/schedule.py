"""Periodic tasks of this app, merged into CELERY_BEAT_SCHEDULE by settings. Channel deliveries
ride on the reports sweep of the shared delivery outbox; Jira has its own outbox sweep and the
reconcile that heals a lost webhook (JQL `updated >=` the last reconcile)."""

BEAT_SCHEDULE: dict = {
    "jira-outbox-sweep": {"task": "integrations.jira.outbox_sweep", "schedule": 60.0},
    "jira-reconcile": {"task": "integrations.jira.reconcile_all", "schedule": 60.0},
}
