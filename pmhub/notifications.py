"""Seam for notification delivery beyond the in-app list (e-mail per user preference).

`pmhub.services.notify` sends `notification_created` for every new notification, inside its
transaction. The reports app connects to it (in its `AppConfig.ready`) and queues the e-mail on
commit when the recipient's preference for that kind says so. A signal rather than an import,
so that the core imports no feature app (docs/architecture.md).
"""

from django.dispatch import Signal

# Sent with `notification` (a saved pmhub.models.Notification).
notification_created = Signal()


def after_notify(notification) -> None:
    notification_created.send(sender=type(notification), notification=notification)
