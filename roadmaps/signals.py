"""Domain events of the roadmaps app that other apps react to (e.g. adoption records KPI
baselines when a release ships). Sent by roadmaps services inside their transaction; receivers
must only schedule work with `transaction.on_commit` / `delay_on_commit`, never do it inline."""

from django.dispatch import Signal

# Sent when a release becomes released. kwargs: release (Release), actor (User or None).
release_shipped = Signal()
