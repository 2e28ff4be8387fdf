from django.urls import path

from training import views

app_name = "training"

urlpatterns = [
    path("training/", views.my_learning, name="my_learning"),
    path("training/courses/", views.course_list, name="course_list"),
    path("training/courses/<int:pk>/", views.course_detail, name="course_detail"),
    path("training/courses/<int:pk>/enroll/", views.course_enroll, name="course_enroll"),
    path("training/courses/<int:pk>/assign/", views.course_assign, name="course_assign"),
    path("training/enrollments/<int:pk>/start/", views.enrollment_start, name="enrollment_start"),
    path(
        "training/enrollments/<int:pk>/complete/",
        views.enrollment_complete,
        name="enrollment_complete",
    ),
    path("training/calendar/", views.calendar, name="calendar"),
    path("training/team/", views.team, name="team"),
    path("training/recommendations/", views.recommendations, name="recommendations"),
    path("training/recommendations/assign/", views.quick_assign, name="quick_assign"),
    path("training/recommendations/<int:user_pk>/plan/", views.plan_course, name="plan_course"),
    path("training/readiness/", views.readiness, name="readiness"),
    path("training/readiness/<int:user_pk>/promote/", views.promote, name="promote"),
    path("knowledge/", views.article_list, name="article_list"),
    path("knowledge/new/", views.article_create, name="article_create"),
    path("knowledge/<int:pk>/", views.article_detail, name="article_detail"),
    path("knowledge/<int:pk>/edit/", views.article_edit, name="article_edit"),
    path("knowledge/<int:pk>/delete/", views.article_delete, name="article_delete"),
    path("knowledge/from-deal/<int:deal_pk>/", views.share_deal, name="share_deal"),
    path("training/mentorships/", views.mentorship_list, name="mentorship_list"),
    path("training/mentorships/<int:pk>/", views.mentorship_detail, name="mentorship_detail"),
    path("training/plans/", views.plan_list, name="plan_list"),
    path("training/plans/<int:pk>/", views.plan_detail, name="plan_detail"),
]
