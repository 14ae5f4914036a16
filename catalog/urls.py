from django.urls import path

from catalog.api import AIModelViewSet

urlpatterns = [
    path("api/models", AIModelViewSet.as_view({"get": "list"}), name="model-list"),
    path("api/models/<path:pk>", AIModelViewSet.as_view({"get": "retrieve"}), name="model-detail"),
]
