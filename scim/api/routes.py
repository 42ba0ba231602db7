from .views import ScimGroupViewSet, ScimTokenViewSet


def register(router):
    """Register this app's viewsets on the /api/v1/ router."""
    router.register("scim/tokens", ScimTokenViewSet, basename="scim-token")
    router.register("scim/groups", ScimGroupViewSet, basename="scim-group")
