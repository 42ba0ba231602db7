"""Seam for notification delivery beyond the in-app list (e-mail per user preference).

`after_notify` is called by `pmhub.services.notify` for every new notification; the
notifications/webhooks work (issue 8) queues the e-mail here according to preferences.
"""


def after_notify(notification) -> None:
    return None
