from .views import EventViewSet, FeatureViewSet, IngestionKeyViewSet, OutcomeReviewViewSet, RollupViewSet


def register(router):
    """Register this app's viewsets on the /api/v1/ router."""
    router.register("events", EventViewSet, basename="event")
    router.register("features", FeatureViewSet, basename="feature")
    router.register("rollups", RollupViewSet, basename="rollup")
    router.register("outcome-reviews", OutcomeReviewViewSet, basename="outcome-review")
    router.register("ingestion-keys", IngestionKeyViewSet, basename="ingestion-key")
