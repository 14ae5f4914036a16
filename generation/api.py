from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.response import Response

from credits.selectors import credits_balance
from gallery.serializers import AssetSerializer
from generation import selectors, services
from generation.models import Generation, Status
from generation.serializers import GenerateInputSerializer, GenerationListQuerySerializer, GenerationSerializer
from ops.errors import NotFound
from ops.pagination import PageLimitPagination


class GenerationViewSet(viewsets.GenericViewSet):
    """Create generations, follow them, list them and cancel them."""

    serializer_class = GenerationSerializer
    pagination_class = PageLimitPagination
    results_key = "generations"
    lookup_value_regex = "[0-9a-f-]{36}"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Generation.objects.none()
        query = GenerationListQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return selectors.generation_list(user=self.request.user, status=query.validated_data.get("status"))

    def _get_own(self, pk):
        generation = selectors.generation_get(user=self.request.user, generation_id=pk)
        if generation is None:
            raise NotFound("Generation not found")
        return generation

    @extend_schema(request=GenerateInputSerializer, responses={201: GenerationSerializer})
    def create(self, request):
        payload = GenerateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        created = services.generation_create(user=request.user, data=payload.validated_data)
        generation = self._get_own(created.pk)
        body = {
            "success": True,
            "generation": self.get_serializer(generation).data,
            "credits_used": generation.cost,
            "credits_remaining": credits_balance(user=request.user),
        }
        if generation.status == Status.COMPLETED:
            body["results"] = AssetSerializer(generation.assets.all(), many=True, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[OpenApiParameter("status", str, enum=Status.values)])
    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response({"success": True, "generation": self.get_serializer(self._get_own(pk)).data})

    @extend_schema(summary="Cancel a queued or running generation", responses={200: None})
    def destroy(self, request, pk=None):
        services.generation_cancel(generation=self._get_own(pk))
        return Response({"success": True, "message": "Generation cancelled successfully"})
