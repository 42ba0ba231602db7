"""Pages of this app, mounted under /w/<ws>/ (see pmhub/urls.py)."""

from django.urls import include, path

from . import views

P = "products/<int:product_id>/"
R = P + "risks/<int:risk_id>/"

patterns = [
    path(P + "risks/", views.RegisterView.as_view(), name="risks"),
    path(P + "risks/new/", views.RiskFormView.as_view(), name="risk_new"),
    path(P + "risks/appetite/", views.AppetiteView.as_view(), name="appetite"),
    path(P + "lifecycle/", views.LifecycleView.as_view(), name="lifecycle"),
    path(R, views.RiskDetailView.as_view(), name="risk"),
    path(R + "edit/", views.RiskFormView.as_view(), name="risk_edit"),
    path(R + "notes/", views.IssueNoteView.as_view(), name="risk_note"),
    path(R + "delete/", views.RiskDeleteView.as_view(), name="risk_delete"),
    path(P + "initiatives/<int:initiative_id>/impact/", views.StatementView.as_view(), name="statement"),
    path(P + "releases/<int:release_id>/change-requests/<int:cr_id>/impact/",
         views.ChangeRequestStatementView.as_view(), name="cr_statement"),
    path(P + "releases/<int:release_id>/launch/", views.LaunchChecklistView.as_view(), name="launch"),
    path(P + "releases/<int:release_id>/launch/<int:item_id>/", views.LaunchItemView.as_view(), name="launch_item"),
    path("launch-templates/", views.TemplatesView.as_view(), name="templates"),
    path("portfolio/", views.PortfolioView.as_view(), name="portfolio"),
    path("portfolio/<int:initiative_id>/", views.PortfolioEntryView.as_view(), name="portfolio_entry"),
    path("launch-templates/<int:template_id>/delete/", views.TemplateDeleteView.as_view(), name="template_delete"),
]

urlpatterns: list = [path("", include((patterns, "governance")))]
