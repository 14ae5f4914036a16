"""``GET /admin/api/metrics``: usage over a period, read from daily rollups (ops/admin_api/rollup.py)."""

from datetime import date, timedelta

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from ops.admin_api.base import StaffView
from ops.selectors import MAX_DAYS, PERIOD_DAYS, period_range, usage_metrics

# No usage can predate the platform; the bound also keeps date arithmetic far from its limits.
EARLIEST = date(2000, 1, 1)


class MetricsQuerySerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=list(PERIOD_DAYS), required=False)
    start_date = serializers.DateField(required=False)
    end_date = serializers.DateField(required=False)
    team = serializers.UUIDField(required=False, help_text="Only this team's work")

    def validate(self, attrs):
        today = timezone.now().date()
        for name in ("start_date", "end_date"):
            value = attrs.get(name)
            if value is not None and not EARLIEST <= value <= today + timedelta(days=366):
                raise serializers.ValidationError({name: [f"{name} must be between {EARLIEST} and next year."]})
        start, end = period_range(
            period=attrs.get("period"), start=attrs.get("start_date"), end=attrs.get("end_date"), today=today
        )
        if end < start:
            raise serializers.ValidationError({"end_date": ["end_date must not be before start_date."]})
        if (end - start).days + 1 > MAX_DAYS:
            raise serializers.ValidationError({"start_date": [f"The range may span at most {MAX_DAYS} days."]})
        return {"start": start, "end": end, "team": attrs.get("team")}


class MetricsView(StaffView):
    @extend_schema(
        summary="Usage over a period: totals, daily figures, popular models and styles (seed 004)",
        parameters=[
            OpenApiParameter("period", str, enum=list(PERIOD_DAYS)),
            OpenApiParameter("start_date", OpenApiTypes.DATE),
            OpenApiParameter("end_date", OpenApiTypes.DATE),
            OpenApiParameter(
                "team", OpenApiTypes.UUID, description="Only this team's work (its generations and wallet)"
            ),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        query = MetricsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response({"success": True, **usage_metrics(**query.validated_data)})
