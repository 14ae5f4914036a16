from django.urls import path

from accounts import api

urlpatterns = [
    path("api/auth/me", api.MeView.as_view(), name="auth-me"),
    path("api/auth/keys", api.APIKeyListView.as_view(), name="auth-keys"),
    path("api/auth/keys/<uuid:key_id>", api.APIKeyDetailView.as_view(), name="auth-key-detail"),
]
