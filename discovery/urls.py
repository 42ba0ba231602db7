"""Pages of this app, mounted under /w/<ws>/ (see pmhub/urls.py)."""

from django.urls import path

from . import views

app_name = "discovery"
P = "products/<int:product_id>/discovery/"

urlpatterns = [
    path(P + "companies/", views.CompaniesView.as_view(), name="companies"),
    path(P + "companies/<int:company_id>/", views.CompanyView.as_view(), name="company"),
    path(P + "inbox/", views.InboxView.as_view(), name="inbox"),
    path(P + "inbox/<int:insight_id>/", views.InsightView.as_view(), name="insight"),
]
