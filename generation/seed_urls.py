from django.urls import path

from generation import seed_api

urlpatterns = [
    path("api/image/models", seed_api.ImageModelsView.as_view(), name="seed-image-models"),
    path("api/image/generate", seed_api.ImageGenerateView.as_view(), name="seed-image-generate"),
    path("api/image/cancel", seed_api.ImageCancelView.as_view(), name="seed-image-cancel"),
    path("api/model-info/<path:model_id>", seed_api.ModelInfoView.as_view(), name="seed-model-info"),
    path("api/generation-status/<uuid:request_id>", seed_api.GenerationStatusView.as_view(), name="seed-status"),
]
