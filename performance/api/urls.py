from django.urls import path
from rest_framework.routers import SimpleRouter

from performance.api import views

router = SimpleRouter()
router.register("targets", views.TargetViewSet, basename="target")

# Reviews, 360 feedback and improvement plans
router.register("review-cycles", views.ReviewCycleViewSet, basename="review-cycle")
router.register("reviews", views.ReviewViewSet, basename="review")
router.register("review-feedback", views.ReviewFeedbackViewSet, basename="review-feedback")
router.register("improvement-plans", views.ImprovementPlanViewSet, basename="improvement-plan")

# Expenses
router.register("expenses", views.ExpenseViewSet, basename="expense")

urlpatterns = [
    path("reports/attainment/", views.AttainmentReportView.as_view(), name="report-attainment"),
    path("reports/leaderboard/", views.LeaderboardReportView.as_view(), name="report-leaderboard"),
    *router.urls,
]
