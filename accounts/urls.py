from django.urls import include, path

from accounts import api, auth_api

urlpatterns = [
    path("auth/login", auth_api.LoginView.as_view(), name="auth-login"),
    path("auth/logout", auth_api.logout_view, name="auth-logout"),
    path("accounts/", include("allauth.urls")),
    path("api/auth/me", api.MeView.as_view(), name="auth-me"),
    path("api/auth/keys", api.APIKeyListView.as_view(), name="auth-keys"),
    path("api/auth/keys/<uuid:key_id>", api.APIKeyDetailView.as_view(), name="auth-key-detail"),
]
