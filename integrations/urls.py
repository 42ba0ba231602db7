"""Pages of this app, mounted under /w/<ws>/ (see pmhub/urls.py); names in the "integrations" namespace."""

from django.urls import include, path

from . import views

patterns = [
    path("channels/", views.ChannelListView.as_view(), name="channels"),
    path("channels/<int:channel_id>/", views.ChannelDetailView.as_view(), name="channel"),
    path("github/", views.RepositoryListView.as_view(), name="repositories"),
    path("github/<int:repository_id>/", views.RepositoryDetailView.as_view(), name="repository"),
]

urlpatterns: list = [path("", include((patterns, "integrations")))]
