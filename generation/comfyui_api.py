"""Seed 002's ComfyUI routes: the server's status, and starting it (staff only)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsStaff
from generation.services.comfyui import comfyui_start, comfyui_status


class ComfyUIStatusView(APIView):
    @extend_schema(summary="Is the ComfyUI server up: queue length and devices", responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return Response(comfyui_status())


class ComfyUIStartView(APIView):
    """Runs the operator-configured start command. The request body is ignored on purpose."""

    permission_classes = [IsStaff]

    @extend_schema(summary="Start the ComfyUI server (staff)", request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request):
        return Response(comfyui_start())
