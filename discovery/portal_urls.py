"""The public ideas portal, mounted at /portal/<slug>/ (see pmhub/urls.py)."""

from django.urls import path

from . import portal_views as v

app_name = "portal"

urlpatterns = [
    path("", v.PortalHomeView.as_view(), name="home"),
    path("signin/", v.PortalSignInView.as_view(), name="signin"),
    path("signin/<str:token>/", v.PortalLinkView.as_view(), name="link"),
    path("signout/", v.PortalSignOutView.as_view(), name="signout"),
    path("ideas/<int:idea_id>/", v.PortalIdeaView.as_view(), name="idea"),
    path("similar/", v.PortalSimilarView.as_view(), name="similar"),
    path("logo/", v.PortalLogoView.as_view(), name="logo"),
    path("roadmap/", v.PortalRoadmapView.as_view(), name="roadmap"),
    path("releases/", v.PortalReleasesView.as_view(), name="releases"),
    path("releases/feed.atom", v.PortalFeedView.as_view(), name="feed"),
    path("unsubscribe/<str:token>/", v.PortalUnsubscribeView.as_view(), name="unsubscribe"),
]
