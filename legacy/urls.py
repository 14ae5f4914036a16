"""Every seed route at its documented path (DESIGN.md §5), by seed.

The names are the ones clients and templates already reverse. Seed 003's routes are the
canonical API's, and seed 001's ``/asset/{id}/download`` and ``/video/{short_key}`` the
gallery's own (its pages link them), so they are mounted by their apps.
"""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from gallery.api.assets import GalleryViewSet
from legacy import openai_images, seed000, seed001, seed002, seed004
from legacy.schema import COMPAT_SCHEMA_SETTINGS

urlpatterns = [
    # Seed 000
    path("api/image/models", seed000.ImageModelsView.as_view(), name="seed-image-models"),
    path("api/image/generate", seed000.ImageGenerateView.as_view(), name="seed-image-generate"),
    path("api/image/cancel", seed000.ImageCancelView.as_view(), name="seed-image-cancel"),
    # Seed 001
    path("api/model-info/<path:model_id>", seed001.ModelInfoView.as_view(), name="seed-model-info"),
    path("api/generation-status/<uuid:request_id>", seed001.GenerationStatusView.as_view(), name="seed-status"),
    path(
        "api/clear-generation-state",
        seed001.ClearGenerationStateView.as_view(),
        name="seed-clear-generation-state",
    ),
    path("api/delete-image", seed001.DeleteImageByUrlView.as_view(), name="seed-delete-image"),
    path("api/assets/<uuid:pk>", seed001.SeedAssetViewSet.as_view({"delete": "destroy"}), name="seed-asset-delete"),
    # Seed 002
    path("api/images/generate", seed002.ImagesGenerateView.as_view(), name="seed-images-generate"),
    path(
        "api/v1/posts/<uuid:post_id>/generate_images",
        seed002.PostGenerateImagesView.as_view(),
        name="seed-post-generate-images",
    ),
    path("api/images/comfyui/status", seed002.ComfyUIStatusView.as_view(), name="seed-comfyui-status"),
    path("api/images/comfyui/start", seed002.ComfyUIStartView.as_view(), name="seed-comfyui-start"),
    # Seed 004
    path("generate/image", seed004.GenerateImageView.as_view(), name="seed-generate-image"),
    path("generate/prompt", seed004.SeedPromptView.as_view(), name="seed-generate-prompt"),
    # The gallery's download, with the format in the path.
    path("download/<uuid:pk>/<str:to>", GalleryViewSet.as_view({"get": "download"}), name="seed-download"),
    # AUTOMATIC1111's web UI API, for its clients (DESIGN.md §5).
    path("sdapi/v1/", include("legacy.automatic1111.urls")),
    # OpenAI's Images API, for its SDKs (DESIGN.md §5).
    path("v1/", include(openai_images.urlpatterns)),
    # The OpenAPI document of those two (legacy.schema), and its Swagger UI.
    path(
        "api/schema/compat/",
        SpectacularAPIView.as_view(custom_settings=COMPAT_SCHEMA_SETTINGS),
        name="compat-schema",
    ),
    path("api/docs/compat/", SpectacularSwaggerSplitView.as_view(url_name="compat-schema"), name="compat-swagger-ui"),
]
