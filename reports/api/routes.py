from .views import NotificationPreferenceViewSet, ReportSubscriptionViewSet, WebhookEndpointViewSet


def register(router):
    """Register this app's viewsets on the /api/v1/ router."""
    router.register("report-subscriptions", ReportSubscriptionViewSet, basename="report-subscription")
    router.register("webhook-endpoints", WebhookEndpointViewSet, basename="webhook-endpoint")
    router.register("notification-preferences", NotificationPreferenceViewSet, basename="notification-preference")
