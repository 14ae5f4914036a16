from django.urls import path

from gallery.api import GalleryViewSet

app_name = "gallery"

urlpatterns = [
    path("api/gallery", GalleryViewSet.as_view({"get": "list"}), name="asset-list"),
    path("api/gallery/<uuid:pk>", GalleryViewSet.as_view({"get": "retrieve"}), name="asset-detail"),
    path("api/gallery/<uuid:pk>/file", GalleryViewSet.as_view({"get": "file"}), name="asset-file"),
]
