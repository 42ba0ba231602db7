from django.apps import AppConfig
from django.db.models.signals import post_delete


class PmhubConfig(AppConfig):
    name = "pmhub"
    verbose_name = "PMHub core"

    def ready(self):
        from . import checks  # noqa: F401 - registers the deploy check of SECRET_KEY
        from .api.fields import use_in_model_serializers
        from .models import Notification

        use_in_model_serializers()
        post_delete.connect(_notification_deleted, sender=Notification, dispatch_uid="pmhub.unread_forget")


def _notification_deleted(sender, instance, **kwargs):
    """A deleted notification (a cascade from its workspace or recipient) changes the cached
    unread count (pmhub.selectors.unread_count)."""
    from .selectors import unread_forget

    unread_forget(instance.recipient_id)
