"""Pages of this app, mounted under /w/<ws>/ (see pmhub/urls.py)."""

from django.urls import path

from . import views

app_name = "delivery"
P = "products/<int:product_id>/"

urlpatterns = [
    path(P + "iterations/", views.IterationListView.as_view(), name="iterations"),
    path(P + "iterations/<int:iteration_id>/", views.IterationPlanView.as_view(), name="iteration"),
    path(P + "iterations/<int:iteration_id>/items/", views.IterationItemsView.as_view(), name="iteration_items"),
    path(P + "iterations/<int:iteration_id>/backlog/", views.IterationBacklogView.as_view(), name="iteration_backlog"),
    path(P + "releases/<int:release_id>/scope/", views.ReleaseScopeView.as_view(), name="release_scope"),
    path(P + "releases/<int:release_id>/scope/approve/", views.ScopeApproveView.as_view(), name="scope_approve"),
    path(P + "releases/<int:release_id>/change-requests/<int:cr_id>/", views.ChangeRequestDecideView.as_view(),
         name="change_request_decide"),
    path(P + "import/", views.ImportUploadView.as_view(), name="import"),
    path(P + "import/<int:import_id>/", views.ImportDetailView.as_view(), name="import_detail"),
    path(P + "import/<int:import_id>/reading/", views.ImportReadingView.as_view(), name="import_reading"),
    path(P + "import/<int:import_id>/confirm/", views.ImportConfirmView.as_view(), name="import_confirm"),
    path(P + "export.csv", views.ExportView.as_view(), name="export"),
]
