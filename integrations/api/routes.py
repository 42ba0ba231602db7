from ..github_sync.api import GitHubAppViewSet, GitHubIssueSyncViewSet
from ..jira.api import JiraConnectionViewSet, JiraIssueMapViewSet, JiraProjectLinkViewSet, JiraSyncLogViewSet
from .views import ChannelViewSet, PullRequestLinkViewSet, RepositoryViewSet


def register(router):
    """Register this app's viewsets on the /api/v1/ router."""
    router.register("channels", ChannelViewSet, basename="channel")
    router.register("github-repositories", RepositoryViewSet, basename="github-repository")
    router.register("pull-requests", PullRequestLinkViewSet, basename="pull-request")
    router.register("github-apps", GitHubAppViewSet, basename="github-app")
    router.register("github-issue-syncs", GitHubIssueSyncViewSet, basename="github-issue-sync")
    router.register("jira-connections", JiraConnectionViewSet, basename="jira-connection")
    router.register("jira-links", JiraProjectLinkViewSet, basename="jira-link")
    router.register("jira-issue-links", JiraIssueMapViewSet, basename="jira-issue-link")
    router.register("jira-sync-log", JiraSyncLogViewSet, basename="jira-sync-log")
