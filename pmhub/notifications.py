"""Seam for notification delivery beyond the in-app list (e-mail per user preference).

`after_notify` is called by `pmhub.services.notify` for every new notification; it queues the
e-mail on commit when the recipient's preference for that kind says so (reports app).
"""


def after_notify(notification) -> None:
    from reports.services import notification_email_queue

    notification_email_queue(notification=notification)
