from .views import ImpactStatementViewSet, RiskAppetiteViewSet, RiskViewSet


def register(router):
    """Register this app's viewsets on the /api/v1/ router."""
    router.register("risks", RiskViewSet, basename="risk")
    router.register("risk-appetites", RiskAppetiteViewSet, basename="risk-appetite")
    router.register("impact-statements", ImpactStatementViewSet, basename="impact-statement")
