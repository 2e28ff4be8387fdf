from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from salesmgmt.core.health import healthz
from teams.api.views import TokenView

api_v1 = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("", include("teams.api.urls")),
    path("", include("customers.api.urls")),
    path("", include("pipeline.api.urls")),
    path("", include("performance.api.urls")),
    path("", include("incentives.api.urls")),
    path("", include("training.api.urls")),
]

# The API first, so that its requests skip the page apps' unprefixed includes, every
# pattern of which Django would try before it; no page path starts with "api/".
urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("", include("salesmgmt.dashboards.urls")),
    path("", include("teams.urls")),
    path("", include("customers.urls")),
    path("", include("performance.urls")),
    path("", include("pipeline.urls")),
    path("", include("incentives.urls")),
    path("", include("training.urls")),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
