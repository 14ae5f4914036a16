from django.urls import include, path

from accounts import api, auth_api, auth_pages

urlpatterns = [
    path("auth/login", auth_api.LoginView.as_view(), name="auth-login"),
    path("auth/logout", auth_pages.logout_view, name="auth-logout"),
    # allauth's sign-in page, answering its failed-attempts limit with 429 (before allauth's own route).
    path("accounts/login/", auth_pages.LoginPage.as_view()),
    path("accounts/", include("allauth.urls")),
    path("api/auth/me", api.MeView.as_view(), name="auth-me"),
    path("api/auth/keys", api.APIKeyListView.as_view(), name="auth-keys"),
    path("api/auth/keys/<uuid:key_id>", api.APIKeyDetailView.as_view(), name="auth-key-detail"),
]
