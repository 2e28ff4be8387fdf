from django.urls import path
from rest_framework.routers import SimpleRouter

from pipeline.api import views

router = SimpleRouter()
router.register("pipelines", views.PipelineViewSet, basename="pipeline")
router.register("stages", views.StageViewSet, basename="stage")
router.register("deals", views.DealViewSet, basename="deal")
router.register("product-categories", views.ProductCategoryViewSet, basename="product-category")
router.register("competitors", views.CompetitorViewSet, basename="competitor")
router.register("assignment-rules", views.AssignmentRuleViewSet, basename="assignment-rule")

urlpatterns = [
    path("reports/funnel/", views.FunnelReportView.as_view(), name="report-funnel"),
    path("reports/forecast/", views.ForecastReportView.as_view(), name="report-forecast"),
    *router.urls,
]
