from .views import CompanyViewSet, HighlightViewSet, IdeaViewSet, InsightViewSet, PersonViewSet


def register(router):
    """Register this app's viewsets on the /api/v1/ router."""
    router.register("companies", CompanyViewSet, basename="company")
    router.register("people", PersonViewSet, basename="person")
    router.register("insights", InsightViewSet, basename="insight")
    router.register("highlights", HighlightViewSet, basename="highlight")
    router.register("ideas", IdeaViewSet, basename="idea")
