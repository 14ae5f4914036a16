from django.urls import path

from ops.admin_api import credits, metrics, status, users, webhooks
from ops.prometheus import metrics_view

urlpatterns = [
    path("admin/api/status", status.StatusView.as_view(), name="admin-api-status"),
    path("admin/api/users", users.UsersView.as_view(), name="admin-api-users"),
    path("admin/api/users/<str:user_id>/credits", credits.UserCreditsAdminView.as_view(), name="admin-user-credits"),
    path("admin/api/metrics", metrics.MetricsView.as_view(), name="admin-api-metrics"),
    path("admin/api/webhooks", webhooks.EndpointListView.as_view(), name="admin-api-webhooks"),
    path("admin/api/webhooks/<str:endpoint_id>", webhooks.EndpointDetailView.as_view(), name="admin-api-webhook"),
    path(
        "admin/api/webhooks/<str:endpoint_id>/test", webhooks.EndpointTestView.as_view(), name="admin-api-webhook-test"
    ),
    path(
        "admin/api/webhooks/<str:endpoint_id>/rotate-secret",
        webhooks.EndpointRotateView.as_view(),
        name="admin-api-webhook-rotate",
    ),
    path(
        "admin/api/webhooks/<str:endpoint_id>/deliveries",
        webhooks.DeliveryListView.as_view(),
        name="admin-api-webhook-deliveries",
    ),
    path(
        "admin/api/webhooks/<str:endpoint_id>/deliveries/<str:delivery_id>/redeliver",
        webhooks.RedeliverView.as_view(),
        name="admin-api-webhook-redeliver",
    ),
    # Prometheus' scrape target (staff session or ATELIER_METRICS_TOKEN).
    path("metrics", metrics_view, name="prometheus-metrics"),
]
