"""Public (unauthenticated) endpoints of discovery, mounted at /api/public/v1/ (see pmhub/urls.py)."""

from django.urls import path

from .api.public import FeedbackFormView

urlpatterns = [
    path("feedback/", FeedbackFormView.as_view(), name="discovery_public_feedback"),
]
