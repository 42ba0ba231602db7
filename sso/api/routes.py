from .views import IdentityProviderViewSet, SsoDomainViewSet


def register(router):
    """Register this app's viewsets on the /api/v1/ router."""
    router.register("sso/providers", IdentityProviderViewSet, basename="sso-provider")
    router.register("sso/domains", SsoDomainViewSet, basename="sso-domain")
