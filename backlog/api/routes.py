from .views import (
    BacklogProductViewSet,
    CustomFieldViewSet,
    EpicViewSet,
    SavedViewViewSet,
    StoryViewSet,
)


def register(router):
    """Register this app's viewsets on the /api/v1/ router."""
    router.register("stories", StoryViewSet, basename="story")
    router.register("epics", EpicViewSet, basename="epic")
    router.register("custom-fields", CustomFieldViewSet, basename="custom-field")
    router.register("saved-views", SavedViewViewSet, basename="saved-view")
    router.register("backlog-products", BacklogProductViewSet, basename="backlog-product")
