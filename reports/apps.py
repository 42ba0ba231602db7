from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"

    def ready(self):
        # The reports app delivers what the core's seams announce (pmhub.webhooks,
        # pmhub.notifications): the core never imports this app.
        from pmhub.notifications import notification_created
        from pmhub.webhooks import webhook_emitted, webhook_events_register

        webhook_events_register(app=self.name, events={
            "report.published": "A progress report was published (scheduled or sent now), with a link to it.",
        })

        webhook_emitted.connect(_webhook_emitted, dispatch_uid="reports.webhook_deliveries")
        from pmhub.subscribers import subscribers_watch

        from .models import WebhookEndpoint

        subscribers_watch("webhooks", WebhookEndpoint, lambda endpoint: endpoint.workspace_id)
        notification_created.connect(_notification_created, dispatch_uid="reports.notification_email")


def _webhook_emitted(sender, *, workspace_id, event, payloads, **kwargs):
    from .services import webhook_deliveries_create

    webhook_deliveries_create(workspace_id=workspace_id, event=event, payload=None, payloads=payloads)


def _notification_created(sender, *, notification, **kwargs):
    from .services import notification_email_queue

    notification_email_queue(notification=notification)
