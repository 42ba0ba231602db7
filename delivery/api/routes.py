from .views import ChangeRequestViewSet, ImportViewSet, IterationViewSet, ReleaseScopeViewSet


def register(router):
    """Register this app's viewsets on the /api/v1/ router."""
    router.register("iterations", IterationViewSet, basename="iteration")
    router.register("release-scopes", ReleaseScopeViewSet, basename="release-scope")
    router.register("change-requests", ChangeRequestViewSet, basename="change-request")
    router.register("imports", ImportViewSet, basename="import")
