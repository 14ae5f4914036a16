from django.urls import path

from gallery.api.assets import GalleryViewSet, SeedAssetViewSet
from gallery.api.collections import CollectionViewSet
from gallery.api.delete_by_url import DeleteImageByUrlView
from gallery.api.sharing import SharePageView, ShareRawView

app_name = "gallery"

_detail = {"get": "retrieve", "patch": "partial_update", "delete": "destroy"}

urlpatterns = [
    path("api/gallery", GalleryViewSet.as_view({"get": "list"}), name="asset-list"),
    path("api/gallery/favorites/list", GalleryViewSet.as_view({"get": "favorites"}), name="asset-favorites"),
    path("api/gallery/<uuid:pk>", GalleryViewSet.as_view(_detail), name="asset-detail"),
    path("api/gallery/<uuid:pk>/file", GalleryViewSet.as_view({"get": "file"}), name="asset-file"),
    path("api/gallery/<uuid:pk>/thumbnail", GalleryViewSet.as_view({"get": "thumbnail"}), name="asset-thumbnail"),
    path("api/gallery/<uuid:pk>/download", GalleryViewSet.as_view({"get": "download"}), name="asset-download"),
    path("api/collections", CollectionViewSet.as_view({"get": "list", "post": "create"}), name="collection-list"),
    path("api/collections/<uuid:pk>", CollectionViewSet.as_view(_detail), name="collection-detail"),
    path(
        "api/collections/<uuid:pk>/assets",
        CollectionViewSet.as_view({"get": "assets", "post": "assets", "delete": "assets"}),
        name="collection-assets",
    ),
    path("s/<str:key>", SharePageView.as_view(), name="share-page"),
    path("s/<str:key>/raw", ShareRawView.as_view(), name="share-raw"),
    # Seed routes: 001's asset delete, download and video link; 004's download by format.
    path("api/delete-image", DeleteImageByUrlView.as_view(), name="seed-delete-image"),
    path("api/assets/<uuid:pk>", SeedAssetViewSet.as_view({"delete": "destroy"}), name="seed-asset-delete"),
    path("asset/<uuid:pk>/download", GalleryViewSet.as_view({"get": "download"}), name="seed-asset-download"),
    path("download/<uuid:pk>/<str:to>", GalleryViewSet.as_view({"get": "download"}), name="seed-download"),
    path("video/<str:key>", ShareRawView.as_view(video_only=True), name="share-video"),
]
