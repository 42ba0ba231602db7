"""Public share links, mounted at /share/ by pmhub/urls.py: `path("share/", include("roadmaps.share_urls"))`.
Outside /w/ on purpose: no sign-in, and nothing but one product's roadmap (its timeline, board or
list, and its presentation when the sharer allowed it)."""

from django.urls import path

from . import views

app_name = "share"

urlpatterns = [
    path("<str:token>/", views.shared_roadmap, name="timeline"),
    path("<str:token>/present/", views.shared_present, name="present"),
]
