"""Inbound webhooks, outside any workspace (mounted at /integrations/ in pmhub/urls.py)."""

from django.urls import path

from . import views
from .jira import views as jira_views

urlpatterns = [
    path("github/<str:hook_token>/", views.GitHubWebhookView.as_view(), name="github_webhook"),
    path("jira/<str:hook_token>/", jira_views.JiraWebhookView.as_view(), name="jira_webhook"),
]
