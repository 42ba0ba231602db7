"""Pages of this app, mounted under /w/<ws>/ (see pmhub/urls.py)."""

from django.urls import path

from . import views

urlpatterns: list = [
    path("products/<int:product_id>/adoption/", views.AdoptionView.as_view(), name="adoption"),
    path("products/<int:product_id>/adoption/features/<int:feature_id>/", views.FeatureAdoptionView.as_view(),
         name="adoption_feature"),
    path("products/<int:product_id>/adoption/keys/", views.IngestionKeysView.as_view(), name="adoption_keys"),
    path("products/<int:product_id>/adoption/keys/<int:key_id>/revoke/", views.IngestionKeyRevokeView.as_view(),
         name="adoption_key_revoke"),
    path("products/<int:product_id>/outcomes/", views.OutcomesView.as_view(), name="outcomes"),
]
