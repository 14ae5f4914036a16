from django.urls import path

from generation.api import GenerationViewSet

urlpatterns = [
    path("api/generate", GenerationViewSet.as_view({"get": "list", "post": "create"}), name="generation-list"),
    path(
        "api/generate/<uuid:pk>",
        GenerationViewSet.as_view({"get": "retrieve", "delete": "destroy"}),
        name="generation-detail",
    ),
    path("api/generate/<uuid:pk>/events", GenerationViewSet.as_view({"get": "events"}), name="generation-events"),
]
