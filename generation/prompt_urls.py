from django.urls import path

from generation.prompts.api import PromptEnhanceView

urlpatterns = [
    path("api/prompts/enhance", PromptEnhanceView.as_view(), name="prompt-enhance"),
]
