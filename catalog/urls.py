from django.urls import path

from catalog.api import AIModelViewSet
from catalog.images_api import FormatViewSet, PromptExampleViewSet, SettingViewSet, StyleViewSet

_COLLECTION = {"get": "list", "post": "create"}
_ITEM = {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}

urlpatterns = [
    path("api/models", AIModelViewSet.as_view({"get": "list"}), name="model-list"),
    path("api/models/<path:pk>", AIModelViewSet.as_view({"get": "retrieve"}), name="model-detail"),
]
for _prefix, _viewset, _name in [
    ("api/images/styles", StyleViewSet, "style"),
    ("api/images/formats", FormatViewSet, "format"),
    ("api/images/prompt_examples", PromptExampleViewSet, "prompt-example"),
    ("api/images/settings", SettingViewSet, "setting"),
]:
    urlpatterns += [
        path(_prefix, _viewset.as_view(_COLLECTION), name=f"{_name}-list"),
        path(f"{_prefix}/<str:pk>", _viewset.as_view(_ITEM), name=f"{_name}-detail"),
    ]
