from django.urls import path

from generation import views

urlpatterns = [
    path("", views.studio, name="studio"),
    path("studio", views.studio_alias, name="studio-alias"),
    # Browsers ask for /favicon.ico on pages that name no icon (the admin, the API's pages).
    path("favicon.ico", views.favicon, name="favicon"),
]
