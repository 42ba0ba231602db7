"""`/api/v1/`: one router; each app registers its routes in `<app>/api/routes.py`."""

from importlib import import_module

from rest_framework.routers import DefaultRouter

router = DefaultRouter()
for module in ("pmhub.api.routes", "roadmaps.api.routes", "backlog.api.routes", "metrics.api.routes"):
    import_module(module).register(router)

urlpatterns = router.urls
