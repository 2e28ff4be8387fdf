from django.urls import path

from performance import views

app_name = "performance"

urlpatterns = [
    path("targets/", views.target_list, name="target_list"),
    path("targets/<int:pk>/", views.target_plan, name="target_plan"),
    path("my-targets/", views.my_targets, name="my_targets"),
    path("leaderboard/", views.leaderboard, name="leaderboard"),
]

# Reviews, 360 feedback and improvement plans
urlpatterns += [
    path("reviews/cycles/", views.cycle_list, name="cycle_list"),
    path("reviews/cycles/new/", views.cycle_create, name="cycle_create"),
    path("reviews/cycles/<int:pk>/", views.cycle_detail, name="cycle_detail"),
    path(
        "reviews/cycles/<int:pk>/<str:action>/",
        views.cycle_action,
        name="cycle_action",
    ),
    path("reviews/", views.review_list, name="review_list"),
    path("reviews/mine/", views.review_list, {"mine": True}, name="my_reviews"),
    path("reviews/<int:pk>/", views.review_detail, name="review_detail"),
    path("reviews/<int:pk>/score/", views.review_score, name="review_score"),
    path("reviews/<int:pk>/acknowledge/", views.review_acknowledge, name="review_acknowledge"),
    path("reviews/<int:pk>/invite/", views.feedback_invite, name="feedback_invite"),
    path("feedback/", views.feedback_requests, name="feedback_requests"),
    path("feedback/<int:pk>/", views.feedback_answer, name="feedback_answer"),
    path("feedback/customer/<str:token>/", views.customer_feedback, name="customer_feedback"),
    path("improvement-plans/", views.plan_list, name="plan_list"),
    path("improvement-plans/new/", views.plan_create, name="plan_create"),
    path("improvement-plans/<int:pk>/", views.plan_detail, name="plan_detail"),
    path("improvement-plans/<int:pk>/actions/", views.plan_add_action, name="plan_add_action"),
    path(
        "improvement-plans/<int:pk>/actions/<int:action_pk>/done/",
        views.plan_action_done,
        name="plan_action_done",
    ),
    path("improvement-plans/<int:pk>/check-ins/", views.plan_check_in, name="plan_check_in"),
    path("improvement-plans/<int:pk>/status/", views.plan_status, name="plan_status"),
]

# Expenses
urlpatterns += [
    path("expenses/", views.expense_list, name="expense_list"),
    path(
        "expenses/<int:pk>/<str:decision>/",
        views.expense_decide,
        name="expense_decide",
    ),
]
