"""Seed 004's user routes: the profile (with its subscription block and preferences) and usage
statistics. Seed 004 answers with bare objects; these add ``success`` beside its keys."""

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.services import PREFERRED_FORMATS, user_preferences_update
from catalog.selectors import style_names
from core.schema import envelope
from credits.selectors import usage_stats, user_profile


class PreferencesSerializer(serializers.Serializer):
    default_style = serializers.CharField(max_length=100, required=False, allow_blank=True)
    preferred_format = serializers.ChoiceField(choices=PREFERRED_FORMATS, required=False)
    email_notifications = serializers.BooleanField(required=False)


class PrivacySerializer(serializers.Serializer):
    embed_prompt_metadata = serializers.BooleanField(
        required=False, help_text="Your image files carry your prompt and negative prompt (default true)"
    )
    share_prompt_metadata = serializers.BooleanField(
        required=False,
        help_text="Your public share links serve files with your prompts in them (default false: without)",
    )


class PreferencesUpdateSerializer(PreferencesSerializer, PrivacySerializer):
    """Any of the preferences and the privacy choices, by their own names."""


class SubscriptionSerializer(serializers.Serializer):
    plan = serializers.CharField()
    credits_remaining = serializers.IntegerField()
    credits_allocated = serializers.IntegerField()
    credits_used_this_month = serializers.IntegerField()
    next_reset = serializers.DateTimeField()
    is_active = serializers.BooleanField()


_PROFILE = envelope(
    "Profile",
    id=serializers.UUIDField(),
    username=serializers.CharField(),
    email=serializers.EmailField(),
    full_name=serializers.CharField(),
    role=serializers.ChoiceField(choices=["admin", "user"]),
    created_at=serializers.DateTimeField(),
    subscription=SubscriptionSerializer(),
    preferences=PreferencesSerializer(),
    privacy=PrivacySerializer(help_text="Where your prompts go; set with the same PATCH"),
)


class UsageDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    images = serializers.IntegerField()
    credits = serializers.IntegerField()


_USAGE = envelope(
    "Usage",
    period=serializers.CharField(help_text="day, week or month, with its dates"),
    start=serializers.DateField(),
    end=serializers.DateField(),
    total_images=serializers.IntegerField(),
    total_generations=serializers.IntegerField(),
    credits_used=serializers.IntegerField(),
    credits_allocated=serializers.IntegerField(),
    usage_by_model=serializers.DictField(child=serializers.IntegerField(), help_text="Images per model id"),
    usage_by_style=serializers.DictField(child=serializers.IntegerField(), help_text="Images per art style"),
    daily_usage=UsageDaySerializer(many=True),
)


class ProfileView(APIView):
    @extend_schema(responses=_PROFILE)
    def get(self, request):
        return Response({"success": True, **user_profile(user=request.user)})

    @extend_schema(
        summary=(
            "Update preferences (default_style, preferred_format, email_notifications, "
            "embed_prompt_metadata, share_prompt_metadata)"
        ),
        description='Send the preference keys themselves, or as the profile shows them: `{"preferences": {…}}`.',
        request=PreferencesUpdateSerializer,
        responses=_PROFILE,
    )
    def patch(self, request):
        # {"preferences": {...}} as the profile shows them, or the preference keys themselves.
        data = request.data.dict() if hasattr(request.data, "dict") else request.data
        preferences = data.get("preferences", data) if isinstance(data, dict) else data
        user_preferences_update(user=request.user, preferences=preferences, styles=style_names())
        return Response({"success": True, **user_profile(user=request.user)})


class UsageQuerySerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=["day", "week", "month"], default="month")
    year = serializers.IntegerField(required=False, min_value=2000, max_value=2100)
    month = serializers.IntegerField(required=False, min_value=1, max_value=12)

    def validate(self, attrs):
        if "month" in attrs and "year" not in attrs:
            attrs["year"] = timezone.now().year
        return attrs


class UsageView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("period", str, enum=["day", "week", "month"]),
            OpenApiParameter("year", {"type": "integer", "minimum": 2000, "maximum": 2100}),
            OpenApiParameter("month", {"type": "integer", "minimum": 1, "maximum": 12}),
        ],
        responses=_USAGE,
    )
    def get(self, request):
        query = UsageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response({"success": True, **usage_stats(user=request.user, **query.validated_data)})
