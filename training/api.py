"""The training API (seed 004's routes and DESIGN.md §4): thin views over services and selectors."""

from __future__ import annotations

import re

from django.conf import settings
from django.http import FileResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from credits.selectors import credits_balance
from generation.renderers import EventStreamRenderer
from ops.errors import NotFound, PayloadTooLarge, ValidationFailed
from ops.numbers import parse_int
from ops.pagination import PageLimitPagination
from ops.schema import envelope
from ops.throttling import rate_limit_hit
from training import datasets, selectors, services
from training.event_stream import training_event_stream
from training.models import Status, TrainingDataset
from training.presenters import dataset_as_dict, lora_as_dict, training_as_dict, training_estimate_text

DATASET_PATH = re.compile(r"/api/training/datasets/(?P<id>[0-9a-f-]{36})/?$")


class StartInputSerializer(serializers.Serializer):
    images_data_url = serializers.CharField(required=False, allow_blank=True, max_length=200_000_000)
    dataset_id = serializers.UUIDField(required=False)
    trigger_word = serializers.RegexField(
        r"^[A-Za-z0-9_\-]{1,50}$", error_messages={"invalid": "Use 1 to 50 letters, digits, _ or -."}
    )
    steps = serializers.IntegerField(required=False, min_value=1, max_value=10000)
    create_masks = serializers.BooleanField(required=False, default=True)
    provider = serializers.CharField(required=False, allow_blank=True, max_length=20)
    base_model = serializers.CharField(required=False, allow_blank=True, max_length=200)
    rank = serializers.IntegerField(required=False, min_value=1, max_value=128)
    learning_rate = serializers.FloatField(required=False, min_value=1e-6, max_value=1.0)
    is_style = serializers.BooleanField(required=False, default=False)
    dry_run = serializers.BooleanField(required=False, default=False)


class _Own(APIView):
    def own_job(self, pk):
        job = selectors.training_get(user=self.request.user, job_id=pk)
        if job is None:
            raise NotFound("Training not found")
        return job

    def own_lora(self, pk):
        lora = selectors.lora_get(user=self.request.user, lora_id=pk)
        if lora is None:
            raise NotFound("LoRA not found")
        return lora


_UPLOADED = envelope(
    "TrainingUpload",
    status=serializers.CharField(help_text="success"),
    dataset_id=serializers.UUIDField(),
    images_data_url=serializers.CharField(help_text="Give it to /api/training/start"),
    image_count=serializers.IntegerField(),
    total_size=serializers.CharField(help_text="e.g. 15.2MB"),
    total_size_bytes=serializers.IntegerField(),
    warnings=serializers.ListField(child=serializers.CharField()),
    images=inline_serializer(
        "TrainingUploadImage",
        {
            "name": serializers.CharField(),
            "width": serializers.IntegerField(),
            "height": serializers.IntegerField(),
            "caption": serializers.CharField(allow_blank=True),
        },
        many=True,
    ),
)


class UploadView(_Own):
    """Seed 004: multipart ``files[]`` (images, optional .txt captions) or one zip."""

    @extend_schema(
        operation_id="training_upload",
        request={"multipart/form-data": OpenApiTypes.OBJECT},
        # 200, as seed 004 answers it: the upload is checked and stored for a training to use.
        responses={200: _UPLOADED},
    )
    def post(self, request):
        plan_limit = services.dataset_limits(user=request.user).max_total_bytes
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        if length > plan_limit + settings.ATELIER_UPLOAD_MAX_FORM_OVERHEAD_BYTES:
            raise PayloadTooLarge(details=f"The upload is {length} bytes; your plan allows {plan_limit}.")
        files = request.FILES.getlist("files[]") or request.FILES.getlist("files") or request.FILES.getlist("file")
        zips = [f for f in files if (f.name or "").lower().endswith(".zip")] + request.FILES.getlist("zip")
        if zips:
            if len(files) > len(zips) or len(zips) > 1:
                raise ValidationFailed(details={"files": ["Send one zip, or image files, not both."]})
            dataset = services.dataset_create(user=request.user, zip_data=zips[0].read())
        else:
            dataset = services.dataset_create(user=request.user, files=files)
        return Response({"success": True, "status": "success", **dataset_as_dict(dataset)})


class DatasetView(_Own):
    # The owner's own bytes (ops.throttling).
    ratelimit_exempt = True

    @extend_schema(operation_id="training_dataset_download", responses={(200, "application/zip"): OpenApiTypes.BINARY})
    def get(self, request, pk):
        dataset = selectors.dataset_get(user=request.user, dataset_id=pk)
        if dataset is None:
            raise NotFound("Dataset not found")
        return FileResponse(dataset.archive.open("rb"), content_type="application/zip", filename=f"{pk}.zip")


class DatasetPublicView(APIView):
    """The dataset zip for a training provider, behind a signed, expiring link (no account)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(operation_id="training_dataset_public", responses={(200, "application/zip"): OpenApiTypes.BINARY})
    def get(self, request, pk):
        valid = datasets.dataset_public_token_valid(
            dataset_id=pk, timestamp=request.query_params.get("t", ""), signature=request.query_params.get("s", "")
        )
        dataset = TrainingDataset.objects.filter(pk=pk).first() if valid else None
        if dataset is None:
            raise NotFound("Dataset not found")
        return FileResponse(dataset.archive.open("rb"), content_type="application/zip", filename=f"{pk}.zip")


class StartView(_Own):
    # Quotes are cheap and the page asks for one at every change: only a real start counts
    # against the training rate limit (seed 004: 5 an hour).
    ratelimit_group = "general"

    @extend_schema(
        operation_id="training_start",
        request=StartInputSerializer,
        responses={
            201: OpenApiTypes.OBJECT,
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="dry_run: the quote"),
        },
    )
    def post(self, request):
        payload = StartInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        dataset = self._dataset(data)
        if data["dry_run"]:
            quote = services.training_quote(user=request.user, data=data, dataset=dataset)
            return Response({"success": True, "dry_run": True, "dataset_id": str(dataset.pk), **quote})
        rate_limit_hit(request, group="training", rate=settings.ATELIER_RATE_LIMITS["training"])
        job = services.training_start(user=request.user, data=data, dataset=dataset)
        return Response(
            {
                "success": True,
                "status": "training_started",
                "training_id": str(job.pk),
                "estimated_time": training_estimate_text(job.estimated_seconds),
                "estimated_seconds": job.estimated_seconds,
                "webhook_url": f"/api/training/status/{job.pk}",
                "events_url": f"/api/training/{job.pk}/events",
                "cost": job.cost,
                "credits_used": job.cost,
                "credits_remaining": credits_balance(user=request.user),
            },
            status=status.HTTP_201_CREATED,
        )

    def _dataset(self, data):
        if data.get("dataset_id"):
            dataset = selectors.dataset_get(user=self.request.user, dataset_id=data["dataset_id"])
            if dataset is None:
                raise NotFound("Dataset not found")
            return dataset
        url = (data.get("images_data_url") or "").strip()
        match = DATASET_PATH.search(url)
        if match:
            dataset = selectors.dataset_get(user=self.request.user, dataset_id=match.group("id"))
            if dataset is None:
                raise NotFound("Dataset not found")
            return dataset
        if url.startswith("data:"):
            limits = services.dataset_limits(user=self.request.user)
            zip_data = datasets.data_url_bytes(url, limit=limits.max_total_bytes)
            return services.dataset_create(user=self.request.user, zip_data=zip_data)
        raise ValidationFailed(
            details={"images_data_url": ["Give the images_data_url or dataset_id that /api/training/upload answered."]}
        )


class StatusView(_Own):
    @extend_schema(operation_id="training_status", responses={200: OpenApiTypes.OBJECT})
    def get(self, request, pk):
        return Response({"success": True, **training_as_dict(self.own_job(pk))})


class TrainingListView(_Own):
    pagination_class = PageLimitPagination
    results_key = "trainings"

    @extend_schema(
        operation_id="training_list",
        parameters=[
            OpenApiParameter("status", str, enum=Status.values),
            OpenApiParameter("page", int),
            OpenApiParameter("limit", int),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        wanted = request.query_params.get("status") or None
        if wanted and wanted not in Status.values:
            raise ValidationFailed(details={"status": [f"Use one of: {', '.join(Status.values)}."]})
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            selectors.training_list(user=request.user, status=wanted), request, view=self
        )
        return paginator.get_paginated_response([training_as_dict(job, brief=True) for job in page])


class TrainingDetailView(_Own):
    @extend_schema(operation_id="training_retrieve", responses={200: OpenApiTypes.OBJECT})
    def get(self, request, pk):
        return Response({"success": True, "training": training_as_dict(self.own_job(pk))})

    @extend_schema(
        operation_id="training_cancel",
        summary="Cancel a training; the unused part of its hold is refunded",
        responses={200: OpenApiTypes.OBJECT},
    )
    def delete(self, request, pk):
        job = services.training_cancel(job=self.own_job(pk))
        return Response(
            {
                "success": True,
                "message": "Training cancelled",
                "training": training_as_dict(job),
                "refunded": job.refunded,
                "credits_remaining": credits_balance(user=request.user),
            }
        )


class TrainingFileView(_Own):
    """The owner's files of a job: the weights, the config, the samples."""

    # The owner's own bytes, each part of a page or answer already counted (ops.throttling).
    ratelimit_exempt = True

    @extend_schema(operation_id="training_file", responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request, pk, name):
        job = self.own_job(pk)
        lora = getattr(job, "lora", None)
        stored, filename, kind = None, name, "application/octet-stream"
        if name == "model.safetensors" and lora is not None:
            stored = lora.weights.open("rb")
            filename = lora.weights.name.rsplit("/", 1)[-1]
        elif name == "config.json" and lora is not None and lora.config:
            stored, kind = lora.config.open("rb"), "application/json"
            filename = lora.config.name.rsplit("/", 1)[-1]
        elif name.startswith("sample-") and name.endswith(".png"):
            index = parse_int(name[len("sample-") : -len(".png")])
            if index is not None and index < len(job.samples):
                from django.core.files.storage import default_storage

                stored, kind = default_storage.open(job.samples[index]["path"], "rb"), "image/png"
        if stored is None:
            raise NotFound("File not found")
        return FileResponse(stored, content_type=kind, filename=filename)


class TrainingEventsView(_Own):
    # A stream of a training that was counted when it was started (ops.throttling).
    ratelimit_exempt = True

    def get_renderers(self):
        return [JSONRenderer(), EventStreamRenderer()]

    @extend_schema(
        operation_id="training_events",
        summary="Live events (text/event-stream) until the training ends",
        parameters=[OpenApiParameter("Last-Event-ID", int, OpenApiParameter.HEADER)],
        responses={(200, "text/event-stream"): OpenApiTypes.STR},
    )
    def get(self, request, pk):
        job = self.own_job(pk)
        last_event_id = parse_int(request.headers.get("Last-Event-ID", "0"))
        if last_event_id is None:
            raise ValidationFailed(details={"Last-Event-ID": ["Must be an event id."]})
        response = StreamingHttpResponse(
            training_event_stream(job_id=job.pk, last_event_id=last_event_id), content_type="text/event-stream"
        )
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"
        return response


class LoraRenameSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)


class LoraListView(_Own):
    pagination_class = PageLimitPagination
    results_key = "loras"

    @extend_schema(
        operation_id="lora_list",
        parameters=[OpenApiParameter("page", int), OpenApiParameter("limit", int)],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.lora_list(user=request.user), request, view=self)
        return paginator.get_paginated_response([lora_as_dict(lora) for lora in page])


class LoraDetailView(_Own):
    @extend_schema(operation_id="lora_retrieve", responses={200: OpenApiTypes.OBJECT})
    def get(self, request, pk):
        return Response({"success": True, "lora": lora_as_dict(self.own_lora(pk))})

    @extend_schema(operation_id="lora_rename", request=LoraRenameSerializer, responses={200: OpenApiTypes.OBJECT})
    def patch(self, request, pk):
        lora = self.own_lora(pk)
        payload = LoraRenameSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        lora = services.lora_rename(lora=lora, name=payload.validated_data["name"])
        return Response({"success": True, "lora": lora_as_dict(lora)})

    @extend_schema(operation_id="lora_delete", responses={200: OpenApiTypes.OBJECT})
    def delete(self, request, pk):
        services.lora_delete(lora=self.own_lora(pk))
        return Response({"success": True, "message": "LoRA deleted"})
