from django.urls import path

from generation.prompts.api import PromptEnhanceView, SeedPromptView

urlpatterns = [
    path("api/prompts/enhance", PromptEnhanceView.as_view(), name="prompt-enhance"),
    path("generate/prompt", SeedPromptView.as_view(), name="seed-generate-prompt"),
]
