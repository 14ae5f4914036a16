from django.urls import path

from webhooks import api, web

urlpatterns = [
    path("api/user/webhook-secret", api.UserSecretView.as_view(), name="user-webhook-secret"),
    path("api/user/webhook-secret/rotate", api.UserSecretRotateView.as_view(), name="user-webhook-secret-rotate"),
    path("account/webhook-secret/rotate", web.secret_rotate, name="account-webhook-secret-rotate"),
    path("admin/api/webhooks", api.EndpointListView.as_view(), name="admin-api-webhooks"),
    path("admin/api/webhooks/<str:endpoint_id>", api.EndpointDetailView.as_view(), name="admin-api-webhook"),
    path("admin/api/webhooks/<str:endpoint_id>/test", api.EndpointTestView.as_view(), name="admin-api-webhook-test"),
    path(
        "admin/api/webhooks/<str:endpoint_id>/rotate-secret",
        api.EndpointRotateView.as_view(),
        name="admin-api-webhook-rotate",
    ),
    path(
        "admin/api/webhooks/<str:endpoint_id>/deliveries",
        api.DeliveryListView.as_view(),
        name="admin-api-webhook-deliveries",
    ),
    path(
        "admin/api/webhooks/<str:endpoint_id>/deliveries/<str:delivery_id>/redeliver",
        api.RedeliverView.as_view(),
        name="admin-api-webhook-redeliver",
    ),
]
