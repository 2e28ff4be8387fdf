from django.urls import path, re_path

from pipeline import views

app_name = "pipeline"

urlpatterns = [
    path("board/", views.board, name="board"),
    path("board/<int:pipeline_id>/", views.board, name="pipeline_board"),
    path("deals/", views.deal_list, name="deal_list"),
    path("deals/new/", views.deal_create, name="deal_create"),
    re_path(r"^deals/export\.(?P<file_format>csv|xlsx)$", views.deal_export, name="deal_export"),
    path("deals/<int:pk>/", views.deal_detail, name="deal_detail"),
    path("deals/<int:pk>/edit/", views.deal_edit, name="deal_edit"),
    path("deals/<int:pk>/move/", views.deal_move, name="deal_move"),
    path("deals/<int:pk>/reopen/", views.deal_reopen, name="deal_reopen"),
    path("deals/<int:pk>/delete/", views.deal_delete, name="deal_delete"),
]
