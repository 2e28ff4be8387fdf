from django.urls import path
from rest_framework.routers import SimpleRouter

from incentives.api import views

router = SimpleRouter()
router.register("commission-plans", views.CommissionPlanViewSet, basename="commission-plan")
router.register("commission-rules", views.CommissionRuleViewSet, basename="commission-rule")
router.register("bonus-rules", views.BonusRuleViewSet, basename="bonus-rule")
router.register("statements", views.StatementViewSet, basename="statement")
router.register("disputes", views.DisputeViewSet, basename="dispute")
router.register("contests", views.ContestViewSet, basename="contest")
router.register("awards", views.AwardViewSet, basename="award")
router.register("kudos", views.KudosViewSet, basename="kudos")
router.register("deal-credits", views.DealCreditViewSet, basename="deal-credit")

urlpatterns = [
    path(
        "reports/commission-estimate/",
        views.CommissionEstimateView.as_view(),
        name="report-commission-estimate",
    ),
    *router.urls,
]
