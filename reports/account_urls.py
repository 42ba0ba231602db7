"""Account pages of this app; the project mounts them with
`path("account/notifications/", include("reports.account_urls"))`."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.NotificationPreferencesView.as_view(), name="notification_preferences"),
]
