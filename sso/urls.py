"""Settings pages of this app, mounted under /w/<ws>/ (see pmhub/urls.py); names in the "sso_admin"
namespace (the sign-in pages outside any workspace are in "sso", sso/public_urls.py)."""

from django.urls import include, path

from . import views

patterns = [
    path("sso/", views.ProvidersView.as_view(), name="providers"),
    path("sso/providers/<int:provider_id>/", views.ProviderView.as_view(), name="provider"),
    path("sso/domains/", views.DomainsView.as_view(), name="domains"),
    path("sso/domains/<int:domain_id>/", views.DomainView.as_view(), name="domain"),
]

urlpatterns: list = [path("", include((patterns, "sso_admin")))]
