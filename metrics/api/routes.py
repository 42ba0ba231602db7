from .views import ActionPlanViewSet, KpiHealthViewSet, KpiViewSet, MeasurementViewSet


def register(router):
    """Register this app's viewsets on the /api/v1/ router."""
    router.register("kpis", KpiViewSet, basename="kpi")
    router.register("measurements", MeasurementViewSet, basename="measurement")
    router.register("kpi-health", KpiHealthViewSet, basename="kpi-health")
    router.register("action-plans", ActionPlanViewSet, basename="action-plan")
