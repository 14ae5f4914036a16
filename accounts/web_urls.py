from django.urls import path

from accounts import web

urlpatterns = [
    path("account", web.account, name="account"),
    path("account/profile", web.profile_update, name="account-profile"),
    path("account/privacy", web.privacy_update, name="account-privacy"),
    path("account/keys", web.key_create, name="account-key-create"),
    path("account/keys/<uuid:key_id>/revoke", web.key_revoke, name="account-key-revoke"),
]
