from django.urls import path

from generation.api import GenerationViewSet
from generation.event_views import GenerationEventsView
from generation.previews_views import GenerationPreviewView

urlpatterns = [
    path("api/generate", GenerationViewSet.as_view({"get": "list", "post": "create"}), name="generation-list"),
    # Before the detail route, though a UUID could never read "cancel".
    path("api/generate/cancel", GenerationViewSet.as_view({"post": "cancel_many"}), name="generation-cancel-many"),
    path(
        "api/generate/<uuid:pk>",
        GenerationViewSet.as_view({"get": "retrieve", "delete": "destroy"}),
        name="generation-detail",
    ),
    # Its own view: under ASGI the stream is an async iterator that holds no thread.
    path("api/generate/<uuid:pk>/events", GenerationEventsView.as_view(), name="generation-events"),
    path("api/generate/<uuid:pk>/preview", GenerationPreviewView.as_view(), name="generation-preview"),
]
