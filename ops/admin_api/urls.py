from django.urls import path

from ops.admin_api.views import MetricsView, StatusView, UsersView
from ops.prometheus import metrics_view

urlpatterns = [
    path("admin/api/status", StatusView.as_view(), name="admin-api-status"),
    path("admin/api/users", UsersView.as_view(), name="admin-api-users"),
    path("admin/api/metrics", MetricsView.as_view(), name="admin-api-metrics"),
    # Prometheus' scrape target (staff session or ATELIER_METRICS_TOKEN).
    path("metrics", metrics_view, name="prometheus-metrics"),
]
