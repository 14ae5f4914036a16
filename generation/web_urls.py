from django.urls import path

from generation import views

urlpatterns = [
    path("", views.studio, name="studio"),
    # Browsers ask for /favicon.ico on pages that name no icon (the admin, the API's pages).
    path("favicon.ico", views.favicon, name="favicon"),
]
