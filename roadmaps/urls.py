"""Pages of this app, mounted under /w/<ws>/ (see pmhub/urls.py)."""

from django.urls import include, path

from . import views

app_name = "roadmaps"

product_patterns = [
    path("", views.ProductOverviewView.as_view(), name="product"),
    path("edit/", views.ProductEditView.as_view(), name="product_edit"),
    path("delete/", views.ProductDeleteView.as_view(), name="product_delete"),
    path("<str:kind>/<int:obj_id>/delete/", views.ChildDeleteView.as_view(), name="child_delete"),
    path("roadmap/timeline/", views.TimelineView.as_view(), name="timeline"),
    path("roadmap/board/", views.BoardView.as_view(), name="board"),
    path("roadmap/list/", views.ListView.as_view(), name="list"),
    path("roadmap/present/", views.PresentView.as_view(), name="present"),
    path("initiatives/new/", views.InitiativeFormView.as_view(), name="initiative_new"),
    path("initiatives/<int:initiative_id>/", views.InitiativeFormView.as_view(), name="initiative"),
    path("initiatives/<int:initiative_id>/work/", views.InitiativeWorkView.as_view(), name="initiative_work"),
    path("initiatives/<int:initiative_id>/delete/", views.InitiativeDeleteView.as_view(), name="initiative_delete"),
    path("initiatives/<int:initiative_id>/move/", views.InitiativeMoveView.as_view(), name="initiative_move"),
    path("dependencies/", views.DependencyCreateView.as_view(), name="dependency_new"),
    path("dependencies/<int:dependency_id>/delete/", views.DependencyDeleteView.as_view(), name="dependency_delete"),
    path("objectives/", views.ObjectivesView.as_view(), name="objectives"),
    path("objectives/<int:objective_id>/delete/", views.ObjectiveDeleteView.as_view(), name="objective_delete"),
    path("objectives/<int:objective_id>/key-results/", views.KeyResultCreateView.as_view(), name="key_result_new"),
    path("key-results/<int:key_result_id>/", views.KeyResultUpdateView.as_view(), name="key_result"),
    path("releases/", views.ReleasesView.as_view(), name="releases"),
    path("releases/<int:release_id>/", views.ReleaseDetailView.as_view(), name="release"),
    path("snapshots/", views.SnapshotsView.as_view(), name="snapshots"),
    path("snapshots/compare/", views.SnapshotCompareView.as_view(), name="snapshot_compare"),
    path("snapshots/<int:snapshot_id>/delete/", views.SnapshotDeleteView.as_view(), name="snapshot_delete"),
    path("share-links/", views.ShareLinksView.as_view(), name="share_links"),
    path("share-links/<int:link_id>/revoke/", views.ShareLinkRevokeView.as_view(), name="share_link_revoke"),
]

urlpatterns = [
    path("products/", views.ProductListView.as_view(), name="products"),
    path("products/deleted/<int:product_id>/restore/", views.ProductRestoreView.as_view(), name="product_restore"),
    path("products/<int:product_id>/", include(product_patterns)),
]
