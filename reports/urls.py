"""Pages of this app, mounted under /w/<ws>/ (see pmhub/urls.py); names in the "reports" namespace."""

from django.urls import include, path

from . import views

patterns = [
    path("reports/", views.SubscriptionListView.as_view(), name="list"),
    path("reports/preview/", views.PreviewView.as_view(), name="preview"),
    path("reports/<int:subscription_id>/", views.SubscriptionDetailView.as_view(), name="detail"),
    path("reports/<int:subscription_id>/delete/", views.SubscriptionDeleteView.as_view(), name="delete"),
    path("reports/<int:subscription_id>/send/", views.SendNowView.as_view(), name="send_now"),
    path("reports/<int:subscription_id>/report/", views.ReportPageView.as_view(), name="report"),
    path("reports/runs/<int:run_id>/", views.RunPageView.as_view(), name="run"),
    path("reports/unsubscribe/<str:token>/", views.UnsubscribeView.as_view(), name="unsubscribe"),
    path("webhooks/", views.WebhookListView.as_view(), name="webhooks"),
    path("webhooks/<int:endpoint_id>/", views.WebhookDetailView.as_view(), name="webhook_detail"),
]

urlpatterns: list = [path("", include((patterns, "reports")))]
