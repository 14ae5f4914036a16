from django.urls import path

from gallery.api.assets import GalleryViewSet
from gallery.api.collections import CollectionViewSet
from gallery.api.provenance import AssetProvenanceView, ProvenanceVerifyView
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
    path("api/gallery/<uuid:pk>/provenance", AssetProvenanceView.as_view(), name="asset-provenance"),
    path("api/provenance/verify", ProvenanceVerifyView.as_view(), name="provenance-verify"),
    path("api/collections", CollectionViewSet.as_view({"get": "list", "post": "create"}), name="collection-list"),
    path("api/collections/<uuid:pk>", CollectionViewSet.as_view(_detail), name="collection-detail"),
    path(
        "api/collections/<uuid:pk>/assets",
        CollectionViewSet.as_view({"get": "assets", "post": "assets", "delete": "assets"}),
        name="collection-assets",
    ),
    path("s/<str:key>", SharePageView.as_view(), name="share-page"),
    path("s/<str:key>/raw", ShareRawView.as_view(), name="share-raw"),
    # The asset page's download links and a video's share link. Seed 001 documents both paths
    # too, but the web UI and the share URLs link them by these names (the other seed routes
    # are in legacy.urls).
    path("asset/<uuid:pk>/download", GalleryViewSet.as_view({"get": "download"}), name="seed-asset-download"),
    path("video/<str:key>", ShareRawView.as_view(video_only=True), name="share-video"),
]
