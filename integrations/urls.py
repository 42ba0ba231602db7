"""Pages of this app, mounted under /w/<ws>/ (see pmhub/urls.py); names in the "integrations" namespace."""

from django.urls import include, path

from . import views
from .github_sync import pages as github_pages
from .jira import views as jira_views

patterns = [
    path("channels/", views.ChannelListView.as_view(), name="channels"),
    path("channels/<int:channel_id>/", views.ChannelDetailView.as_view(), name="channel"),
    path("github/", views.RepositoryListView.as_view(), name="repositories"),
    path("github/<int:repository_id>/", views.RepositoryDetailView.as_view(), name="repository"),
    path("github-apps/", github_pages.GitHubAppListView.as_view(), name="github_apps"),
    path("github-apps/<int:app_id>/", github_pages.GitHubAppDetailView.as_view(), name="github_app"),
    path("jira/", jira_views.JiraConnectionListView.as_view(), name="jira_connections"),
    path("jira/<int:connection_id>/", jira_views.JiraConnectionDetailView.as_view(), name="jira_connection"),
    path("jira/<int:connection_id>/links/<int:link_id>/", jira_views.JiraLinkView.as_view(), name="jira_link"),
]

urlpatterns: list = [path("", include((patterns, "integrations")))]
