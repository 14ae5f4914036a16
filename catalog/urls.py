from django.urls import path
from rest_framework.routers import SimpleRouter

from catalog.api import AIModelViewSet
from catalog.images_api import FormatViewSet, PromptExampleViewSet, SettingViewSet, StyleViewSet

# Seed 002's editable catalog, at its paths (no trailing slash).
router = SimpleRouter(trailing_slash=False)
router.register("api/images/styles", StyleViewSet, basename="style")
router.register("api/images/formats", FormatViewSet, basename="format")
router.register("api/images/prompt_examples", PromptExampleViewSet, basename="prompt-example")
router.register("api/images/settings", SettingViewSet, basename="setting")

urlpatterns = [
    path("api/models", AIModelViewSet.as_view({"get": "list"}), name="model-list"),
    path("api/models/<path:pk>", AIModelViewSet.as_view({"get": "retrieve"}), name="model-detail"),
    *router.urls,
]
