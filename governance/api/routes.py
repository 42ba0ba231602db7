from .views import (
    ChecklistTemplateViewSet,
    ImpactStatementViewSet,
    LaunchItemViewSet,
    PortfolioEntryViewSet,
    PortfolioRankingViewSet,
    ProductLifecycleViewSet,
    RiskAppetiteViewSet,
    RiskViewSet,
    ShipOverrideViewSet,
    StageChangeViewSet,
    StageProposalViewSet,
)


def register(router):
    """Register this app's viewsets on the /api/v1/ router."""
    router.register("risks", RiskViewSet, basename="risk")
    router.register("risk-appetites", RiskAppetiteViewSet, basename="risk-appetite")
    router.register("impact-statements", ImpactStatementViewSet, basename="impact-statement")
    router.register("launch-items", LaunchItemViewSet, basename="launch-item")
    router.register("launch-templates", ChecklistTemplateViewSet, basename="launch-template")
    router.register("ship-overrides", ShipOverrideViewSet, basename="ship-override")
    router.register("portfolio-entries", PortfolioEntryViewSet, basename="portfolio-entry")
    router.register("portfolio-ranking", PortfolioRankingViewSet, basename="portfolio-ranking")
    router.register("stage-proposals", StageProposalViewSet, basename="stage-proposal")
    router.register("stage-changes", StageChangeViewSet, basename="stage-change")
    router.register("product-lifecycle", ProductLifecycleViewSet, basename="product-lifecycle")
