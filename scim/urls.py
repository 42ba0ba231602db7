"""Pages of this app, mounted under /w/<ws>/ (see pmhub/urls.py); names in the "scim" namespace."""

from django.urls import include, path

from . import views

patterns = [
    path("settings/scim/", views.ScimSettingsView.as_view(), name="settings"),
    path("settings/scim/tokens/<int:token_id>/revoke/", views.ScimTokenRevokeView.as_view(), name="token_revoke"),
    path("settings/scim/groups/<int:group_id>/", views.ScimGroupView.as_view(), name="group"),
]

urlpatterns: list = [path("", include((patterns, "scim")))]
