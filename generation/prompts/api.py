"""The prompt enhancement endpoint, ``POST /api/prompts/enhance``."""

from dataclasses import asdict

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from generation.prompts.composer import Choices
from generation.prompts.service import Enhancement, prompt_enhance


class EnhanceInputSerializer(serializers.Serializer):
    topic = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    prompt = serializers.CharField(required=False, allow_blank=True, max_length=1000, write_only=True)
    model = serializers.CharField(required=False, allow_blank=True, max_length=200)
    art_style = serializers.CharField(required=False, allow_blank=True, max_length=100)
    style = serializers.CharField(required=False, allow_blank=True, max_length=100, write_only=True)
    color_scheme = serializers.CharField(required=False, allow_blank=True, max_length=100)
    lighting_mood = serializers.CharField(required=False, allow_blank=True, max_length=100)
    subject_focus = serializers.CharField(required=False, allow_blank=True, max_length=100)
    background_style = serializers.CharField(required=False, allow_blank=True, max_length=100)
    effects_filters = serializers.CharField(required=False, allow_blank=True, max_length=100)

    def validate(self, attrs):
        # The canonical API also says ``prompt`` and ``style``; seed 004 says ``topic`` and ``art_style``.
        attrs["topic"] = attrs.get("topic") or attrs.pop("prompt", "")
        attrs["art_style"] = attrs.get("art_style") or attrs.pop("style", "")
        if not attrs["topic"].strip():
            raise serializers.ValidationError({"topic": ["This field is required."]})
        return attrs


class EnhancementSerializer(serializers.Serializer):
    prompt = serializers.CharField()
    original_topic = serializers.CharField()
    enhancement_applied = serializers.BooleanField(help_text="True only when an LLM wrote the prompt.")
    estimated_quality = serializers.CharField()
    enhanced_by = serializers.CharField(help_text="anthropic, openai or offline")
    model = serializers.CharField(allow_null=True)
    art_style = serializers.CharField(allow_null=True)
    fallback_reason = serializers.CharField(allow_null=True, help_text="Why the LLM was not used, if it failed.")


def enhancement_for(request) -> Enhancement:
    """Validates an enhancement request (canonical or seed 004 names) and enhances its topic."""
    payload = EnhanceInputSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    data = payload.validated_data
    return prompt_enhance(
        topic=data["topic"],
        model=data.get("model") or None,
        art_style=data.get("art_style") or None,
        choices=Choices(**{name: data.get(name, "") for name in Choices.__dataclass_fields__}),
    )


class PromptEnhanceView(APIView):
    """Turns a topic and style choices into a rich image prompt (LLM when configured, else offline)."""

    ratelimit_group = "prompt"

    @extend_schema(
        request=EnhanceInputSerializer,
        responses=inline_serializer(
            "EnhanceResponse", fields={"success": serializers.BooleanField(), "enhancement": EnhancementSerializer()}
        ),
    )
    def post(self, request):
        return Response({"success": True, "enhancement": asdict(enhancement_for(request))})
