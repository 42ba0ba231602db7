"""Inbound webhooks, outside any workspace (mounted at /integrations/ in pmhub/urls.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("github/<str:hook_token>/", views.GitHubWebhookView.as_view(), name="github_webhook"),
]
