from .views import (
    CompanyViewSet,
    CsvImportViewSet,
    FeedbackViewSet,
    HighlightViewSet,
    IdeaViewSet,
    InsightViewSet,
    IntakeViewSet,
    PersonViewSet,
    PortalViewSet,
    ReleaseNoteViewSet,
)


def register(router):
    """Register this app's viewsets on the /api/v1/ router."""
    router.register("companies", CompanyViewSet, basename="company")
    router.register("people", PersonViewSet, basename="person")
    router.register("insights", InsightViewSet, basename="insight")
    router.register("feedback", FeedbackViewSet, basename="feedback")
    router.register("highlights", HighlightViewSet, basename="highlight")
    router.register("ideas", IdeaViewSet, basename="idea")
    router.register("discovery-imports", CsvImportViewSet, basename="discovery-import")
    router.register("discovery-intake", IntakeViewSet, basename="discovery-intake")
    router.register("discovery-portals", PortalViewSet, basename="discovery-portal")
    router.register("release-notes", ReleaseNoteViewSet, basename="release-note")
