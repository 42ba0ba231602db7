"""Pages of this app, mounted under /w/<ws>/ (see pmhub/urls.py)."""

from django.urls import include, path

from . import views

P = "products/<int:product_id>/"
R = P + "risks/<int:risk_id>/"

patterns = [
    path(P + "risks/", views.RegisterView.as_view(), name="risks"),
    path(P + "risks/new/", views.RiskFormView.as_view(), name="risk_new"),
    path(P + "risks/appetite/", views.AppetiteView.as_view(), name="appetite"),
    path(R, views.RiskDetailView.as_view(), name="risk"),
    path(R + "edit/", views.RiskFormView.as_view(), name="risk_edit"),
    path(R + "notes/", views.IssueNoteView.as_view(), name="risk_note"),
    path(R + "delete/", views.RiskDeleteView.as_view(), name="risk_delete"),
    path(P + "initiatives/<int:initiative_id>/impact/", views.StatementView.as_view(), name="statement"),
]

urlpatterns: list = [path("", include((patterns, "governance")))]
