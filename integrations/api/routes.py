from .views import ChannelViewSet, PullRequestLinkViewSet, RepositoryViewSet


def register(router):
    """Register this app's viewsets on the /api/v1/ router."""
    router.register("channels", ChannelViewSet, basename="channel")
    router.register("github-repositories", RepositoryViewSet, basename="github-repository")
    router.register("pull-requests", PullRequestLinkViewSet, basename="pull-request")
