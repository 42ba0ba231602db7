from .views import ChannelViewSet


def register(router):
    """Register this app's viewsets on the /api/v1/ router."""
    router.register("channels", ChannelViewSet, basename="channel")
