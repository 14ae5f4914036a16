from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from ops.views import HealthView, status_page

urlpatterns = [
    path("health", HealthView.as_view(), name="health"),
    # /health in words, for people (the footer's Status link).
    path("status", status_page, name="status"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script, so the
    # page works under the Content-Security-Policy.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path("", include("accounts.urls")),
    path("", include("teams.urls")),
    path("", include("catalog.urls")),
    path("", include("credits.urls")),
    path("", include("gallery.urls")),
    path("", include("training.urls")),
    path("", include("generation.urls")),
    path("", include("legacy.urls")),
    path("", include("generation.prompt_urls")),
    # The web UI: the studio at /, the library and asset pages, the account page.
    path("", include("generation.web_urls")),
    path("", include("gallery.web_urls")),
    path("", include("accounts.web_urls")),
    path("", include("generation.webhooks.urls")),
    path("", include("ops.admin_api.urls")),
    path("", include("webhooks.urls")),
    # Last: the apps' own routes under /admin/api/ must match before the admin's catch-all.
    path("admin/", admin.site.urls),
]

handler400 = "ops.views.bad_request"
handler403 = "ops.views.permission_denied"
handler404 = "ops.views.not_found"
handler500 = "ops.views.server_error"
