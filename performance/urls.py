from django.urls import path

from performance import views

app_name = "performance"

urlpatterns = [
    path("targets/", views.target_list, name="target_list"),
    path("targets/<int:pk>/", views.target_plan, name="target_plan"),
    path("my-targets/", views.my_targets, name="my_targets"),
    path("leaderboard/", views.leaderboard, name="leaderboard"),
]
