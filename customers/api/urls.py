from rest_framework.routers import DefaultRouter

from customers.api import views

router = DefaultRouter()
router.register("accounts", views.AccountViewSet, basename="account")
router.register("pool", views.PoolViewSet, basename="pool")
router.register("contacts", views.ContactViewSet, basename="contact")
router.register("tags", views.TagViewSet, basename="tag")
router.register("interactions", views.InteractionViewSet, basename="interaction")
router.register("follow-ups", views.FollowUpViewSet, basename="follow-up")
router.register("industries", views.IndustryViewSet, basename="industry")
router.register("regions", views.RegionViewSet, basename="region")

urlpatterns = router.urls
