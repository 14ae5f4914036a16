from django.urls import path

from training import api, web, webhooks

urlpatterns = [
    path("training", web.training_page, name="training"),
    path("api/training/upload", api.UploadView.as_view(), name="training-upload"),
    path("api/training/start", api.StartView.as_view(), name="training-start"),
    path("api/training/status/<uuid:pk>", api.StatusView.as_view(), name="training-status"),
    path("api/training/datasets/<uuid:pk>", api.DatasetView.as_view(), name="training-dataset"),
    path("api/training/datasets/<uuid:pk>/public", api.DatasetPublicView.as_view(), name="training-dataset-public"),
    path("api/training", api.TrainingListView.as_view(), name="training-list"),
    path("api/training/<uuid:pk>", api.TrainingDetailView.as_view(), name="training-detail"),
    path("api/training/<uuid:pk>/events", api.TrainingEventsView.as_view(), name="training-events"),
    path("api/training/<uuid:pk>/files/<str:name>", api.TrainingFileView.as_view(), name="training-file"),
    path(
        "api/training/webhooks/<str:provider>/<uuid:job_id>",
        webhooks.TrainingWebhookView.as_view(),
        name="training-webhook",
    ),
    path("api/loras", api.LoraListView.as_view(), name="lora-list"),
    path("api/loras/<uuid:pk>", api.LoraDetailView.as_view(), name="lora-detail"),
]
