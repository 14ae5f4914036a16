from django.urls import path

from webhooks import api, web

urlpatterns = [
    path("api/user/webhook-secret", api.UserSecretView.as_view(), name="user-webhook-secret"),
    path("api/user/webhook-secret/rotate", api.UserSecretRotateView.as_view(), name="user-webhook-secret-rotate"),
    path("account/webhook-secret/rotate", web.secret_rotate, name="account-webhook-secret-rotate"),
]
