"""``GET /admin/api/status``: the system, the database, the providers as measured, the workers."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from ops.admin_api.base import StaffView
from ops.selectors import admin_status


class StatusView(StaffView):
    @extend_schema(summary="System status (seed 004)", responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        return Response({"success": True, **admin_status()})
