from django.urls import path

from salesmgmt.dashboards import views

app_name = "dashboards"

urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/", views.manager, name="manager"),
]
