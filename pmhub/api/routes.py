from .views import ActivityViewSet, JobViewSet, NotificationViewSet, SearchViewSet, WorkspaceViewSet


def register(router):
    router.register("workspaces", WorkspaceViewSet, basename="workspace")
    router.register("activity", ActivityViewSet, basename="activity")
    router.register("notifications", NotificationViewSet, basename="notification")
    router.register("jobs", JobViewSet, basename="job")
    router.register("search", SearchViewSet, basename="search")
