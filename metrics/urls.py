"""Pages of this app, mounted under /w/<ws>/ (see pmhub/urls.py)."""

from django.urls import path

from . import views

P = "products/<int:product_id>/"
K = P + "kpis/<int:kpi_id>/"

urlpatterns: list = [
    path(P + "kpis/", views.KpiListView.as_view(), name="metrics_kpi_list"),
    path(K, views.KpiDetailView.as_view(), name="metrics_kpi_detail"),
    path(K + "delete/", views.KpiDeleteView.as_view(), name="metrics_kpi_delete"),
    path(K + "measurements/", views.MeasurementAddView.as_view(), name="metrics_measurement_add"),
    path(K + "measurements/<int:measurement_id>/delete/", views.MeasurementDeleteView.as_view(),
         name="metrics_measurement_delete"),
    path(K + "upload/", views.UploadView.as_view(), name="metrics_upload_create"),
    path(K + "upload/<int:upload_id>/", views.UploadPreviewView.as_view(), name="metrics_upload"),
    path(K + "upload/<int:upload_id>/reading/", views.UploadReadingView.as_view(), name="metrics_upload_reading"),
    path(K + "action-plans/", views.ActionPlanCreateView.as_view(), name="metrics_plan_create"),
    path(P + "dashboard/", views.ProductDashboardView.as_view(), name="metrics_product_dashboard"),
    path(P + "dashboard/data/", views.ProductDashboardView.as_view(), {"fmt": "json"},
         name="metrics_product_dashboard_data"),
    path(P + "dashboard/export.csv", views.ProductDashboardView.as_view(), {"fmt": "csv"},
         name="metrics_product_dashboard_csv"),
    path("dashboard/", views.WorkspaceDashboardView.as_view(), name="metrics_workspace_dashboard"),
    path("dashboard/data/", views.WorkspaceDashboardView.as_view(), {"fmt": "json"},
         name="metrics_workspace_dashboard_data"),
    path("dashboard/export.csv", views.WorkspaceDashboardView.as_view(), {"fmt": "csv"},
         name="metrics_workspace_dashboard_csv"),
    path("action-plans/", views.ActionPlanListView.as_view(), name="metrics_plan_list"),
    path("action-plans/<int:plan_id>/", views.ActionPlanDetailView.as_view(), name="metrics_plan_detail"),
]
