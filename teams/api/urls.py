from rest_framework.routers import DefaultRouter

from teams.api import views

router = DefaultRouter()
router.register("users", views.UserViewSet, basename="user")
router.register("teams", views.TeamViewSet, basename="team")
router.register("ladder-levels", views.LadderLevelViewSet, basename="ladder-level")
router.register("notifications", views.NotificationViewSet, basename="notification")

urlpatterns = router.urls
