"""`/api/v1/`: one router; each app registers its routes in `<app>/api/routes.py`."""

from importlib import import_module

from rest_framework.routers import DefaultRouter

router = DefaultRouter()
API_ROUTE_MODULES = (
    "pmhub.api.routes", "roadmaps.api.routes", "backlog.api.routes", "metrics.api.routes",
    "adoption.api.routes", "delivery.api.routes", "discovery.api.routes", "reports.api.routes",
    "governance.api.routes", "integrations.api.routes", "sso.api.routes", "scim.api.routes",
)
for module in API_ROUTE_MODULES:
    import_module(module).register(router)

urlpatterns = router.urls
