"""Inbound webhooks, outside any workspace (mounted at /integrations/ in pmhub/urls.py)."""

from django.urls import path

from . import views
from .github_sync import views as github_sync_views
from .jira import views as jira_views

urlpatterns = [
    path("github/<str:hook_token>/", views.GitHubWebhookView.as_view(), name="github_webhook"),
    path("github-app/<str:hook_token>/", github_sync_views.GitHubAppWebhookView.as_view(), name="github_app_webhook"),
    path("github-issues/<str:hook_token>/", github_sync_views.GitHubIssuesWebhookView.as_view(),
         name="github_issues_webhook"),
    path("jira/<str:hook_token>/", jira_views.JiraWebhookView.as_view(), name="jira_webhook"),
]
