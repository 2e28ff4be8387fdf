from django.urls import path
from rest_framework.routers import SimpleRouter

from performance.api import views

router = SimpleRouter()
router.register("targets", views.TargetViewSet, basename="target")

urlpatterns = [
    path("reports/attainment/", views.AttainmentReportView.as_view(), name="report-attainment"),
    path("reports/leaderboard/", views.LeaderboardReportView.as_view(), name="report-leaderboard"),
    *router.urls,
]
