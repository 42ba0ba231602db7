"""Pages of this app, mounted under /w/<ws>/ (see pmhub/urls.py)."""

from django.urls import path

from . import views

app_name = "discovery"
P = "products/<int:product_id>/discovery/"

urlpatterns = [
    # Backlog › Feedback, at the backlog's old address: feedback is filed into the inbox (decision 1613).
    path("products/<int:product_id>/feedback/", views.FeedbackView.as_view(), name="feedback"),
    path(P + "companies/", views.CompaniesView.as_view(), name="companies"),
    path(P + "companies/<int:company_id>/", views.CompanyView.as_view(), name="company"),
    path(P + "inbox/", views.InboxView.as_view(), name="inbox"),
    path(P + "inbox/<int:insight_id>/", views.InsightView.as_view(), name="insight"),
    path(P + "ideas/", views.IdeasView.as_view(), name="ideas"),
    path(P + "ideas/<int:idea_id>/", views.IdeaView.as_view(), name="idea"),
    path(P + "similar/", views.SimilarView.as_view(), name="similar"),
    path(P + "portal/", views.PortalSettingsView.as_view(), name="portal"),
    path(P + "intake/", views.IntakeView.as_view(), name="intake"),
    path(P + "import/", views.ImportsView.as_view(), name="imports"),
    path(P + "import/<int:import_id>/", views.ImportView.as_view(), name="import"),
    path(P + "import/<int:import_id>/reading/", views.ImportReadingView.as_view(), name="import_reading"),
]
