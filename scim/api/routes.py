from .views import ScimTokenViewSet


def register(router):
    """Register this app's viewsets on the /api/v1/ router."""
    router.register("scim/tokens", ScimTokenViewSet, basename="scim-token")
