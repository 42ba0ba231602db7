from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "delivery"

    def ready(self):
        from backlog.signals import story_status_changed

        from .receivers import record_status_event

        story_status_changed.connect(record_status_event, dispatch_uid="delivery.record_status_event")
