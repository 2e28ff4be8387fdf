from django.urls import path
from rest_framework.routers import SimpleRouter

from training.api import views

router = SimpleRouter()
router.register("courses", views.CourseViewSet, basename="course")
router.register("enrollments", views.EnrollmentViewSet, basename="enrollment")
router.register("mentorships", views.MentorshipViewSet, basename="mentorship")
router.register("articles", views.ArticleViewSet, basename="article")
router.register("development-plans", views.DevelopmentPlanViewSet, basename="development-plan")

urlpatterns = [
    path(
        "ladder-levels/<int:pk>/criteria/",
        views.LadderCriteriaView.as_view(),
        name="ladder-level-criteria",
    ),
    path("improvement-plan-courses/", views.PlanCourseView.as_view(), name="plan-course"),
    path(
        "reports/promotion-readiness/",
        views.PromotionReadinessReportView.as_view(),
        name="report-promotion-readiness",
    ),
    path(
        "reports/training-recommendations/",
        views.TrainingRecommendationsReportView.as_view(),
        name="report-training-recommendations",
    ),
    *router.urls,
]
