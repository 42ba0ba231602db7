from . import views


def register(router):
    """Register this app's viewsets on the /api/v1/ router."""
    router.register("products", views.ProductViewSet, basename="product")
    router.register("segments", views.SegmentViewSet, basename="segment")
    router.register("competitors", views.CompetitorViewSet, basename="competitor")
    router.register("capabilities", views.CapabilityViewSet, basename="capability")
    router.register("objectives", views.ObjectiveViewSet, basename="objective")
    router.register("key-results", views.KeyResultViewSet, basename="key-result")
    router.register("initiatives", views.InitiativeViewSet, basename="initiative")
    router.register("dependencies", views.DependencyViewSet, basename="dependency")
    router.register("releases", views.ReleaseViewSet, basename="release")
    router.register("snapshots", views.SnapshotViewSet, basename="snapshot")
    router.register("share-links", views.ShareLinkViewSet, basename="share-link")
