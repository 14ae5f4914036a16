from django.urls import path

from generation import comfyui_api, seed_api, seed_sync_api

urlpatterns = [
    path("api/image/models", seed_api.ImageModelsView.as_view(), name="seed-image-models"),
    path("api/image/generate", seed_api.ImageGenerateView.as_view(), name="seed-image-generate"),
    path("api/image/cancel", seed_api.ImageCancelView.as_view(), name="seed-image-cancel"),
    path("api/model-info/<path:model_id>", seed_api.ModelInfoView.as_view(), name="seed-model-info"),
    path("api/generation-status/<uuid:request_id>", seed_api.GenerationStatusView.as_view(), name="seed-status"),
    path("api/images/generate", seed_sync_api.ImagesGenerateView.as_view(), name="seed-images-generate"),
    path(
        "api/v1/posts/<uuid:post_id>/generate_images",
        seed_sync_api.PostGenerateImagesView.as_view(),
        name="seed-post-generate-images",
    ),
    path("generate/image", seed_sync_api.GenerateImageView.as_view(), name="seed-generate-image"),
    path(
        "api/clear-generation-state",
        seed_sync_api.ClearGenerationStateView.as_view(),
        name="seed-clear-generation-state",
    ),
    path("api/images/comfyui/status", comfyui_api.ComfyUIStatusView.as_view(), name="seed-comfyui-status"),
    path("api/images/comfyui/start", comfyui_api.ComfyUIStartView.as_view(), name="seed-comfyui-start"),
]
