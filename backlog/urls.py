"""Pages of this app, mounted under /w/<ws>/ (see pmhub/urls.py)."""

from django.urls import path

from . import views

app_name = "backlog"
P = "products/<int:product_id>/"
S = P + "backlog/stories/<int:story_id>/"

urlpatterns = [
    path(P + "backlog/", views.BacklogView.as_view(), name="list"),
    path(P + "backlog/rows/", views.RowsView.as_view(), name="rows"),
    path(P + "backlog/bulk/", views.BulkView.as_view(), name="bulk"),
    path(P + "backlog/views/", views.SavedViewSaveView.as_view(), name="view_save"),
    path(P + "backlog/views/<int:view_id>/delete/", views.SavedViewDeleteView.as_view(), name="view_delete"),
    path(P + "backlog/board/", views.BoardView.as_view(), name="board"),
    path(P + "backlog/board/more/", views.BoardMoreView.as_view(), name="board_more"),
    path(P + "backlog/board/iterations/<int:iteration_id>/", views.BoardView.as_view(), name="iteration_board"),
    path(S + "status/", views.BoardStatusView.as_view(), name="story_status"),
    path(P + "backlog/settings/", views.SettingsView.as_view(), name="settings"),
    path(S, views.StoryView.as_view(), name="story"),
    path(S + "row/", views.RowView.as_view(), name="row"),
    path(S + "move/", views.MoveView.as_view(), name="move"),
    path(S + "delete/", views.StoryDeleteView.as_view(), name="story_delete"),
    path(S + "comments/", views.CommentView.as_view(), name="comment"),
    path(S + "criteria/", views.CriterionView.as_view(), name="criterion_add"),
    path(S + "criteria/<int:criterion_id>/", views.CriterionView.as_view(), name="criterion_toggle"),
    path(P + "epics/", views.EpicsView.as_view(), name="epics"),
    path(P + "epics/<int:epic_id>/", views.EpicView.as_view(), name="epic"),
    path(P + "scoring/", views.ScoringView.as_view(), name="scoring"),
]
