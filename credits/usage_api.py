"""Seed 004's user routes: the profile (with its subscription block and preferences) and usage
statistics. Seed 004 answers with bare objects; these add ``success`` beside its keys."""

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from credits.selectors import usage_stats, user_profile
from credits.services import user_preferences_update


class ProfileView(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return Response({"success": True, **user_profile(user=request.user)})

    @extend_schema(
        summary="Update preferences (default_style, preferred_format, email_notifications)",
        request=OpenApiTypes.OBJECT,
        responses=OpenApiTypes.OBJECT,
    )
    def patch(self, request):
        # {"preferences": {...}} as the profile shows them, or the preference keys themselves.
        data = request.data.dict() if hasattr(request.data, "dict") else request.data
        preferences = data.get("preferences", data) if isinstance(data, dict) else data
        user_preferences_update(user=request.user, preferences=preferences)
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
            OpenApiParameter("year", int),
            OpenApiParameter("month", int),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request):
        query = UsageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response({"success": True, **usage_stats(user=request.user, **query.validated_data)})
