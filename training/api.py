"""The training API (seed 004's routes and DESIGN.md §4): each view validates its input, calls one
service or selector, and answers through its output serializer (the shapes: training/serializers.py)."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.http import FileResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import NotFound, ValidationFailed
from core.jobs import release_database_connections
from core.numbers import parse_int
from core.pagination import PageLimitPagination
from core.request_context import served_by_asgi
from core.schema import message_envelope
from generation.renderers import EventStreamRenderer
from teams.acting import acting_key_team, acting_membership, acting_team
from teams.policy import team_object_delete_check
from training import selectors, services
from training.event_stream import training_event_stream, training_event_stream_async
from training.models import Status
from training.presenters import training_estimate_text
from training.providers import training_providers
from training.serializers import (
    LoraSerializer,
    SuccessSerializer,
    TrainingBriefSerializer,
    TrainingDatasetSerializer,
    TrainingEventSerializer,
    TrainingSerializer,
    constant,
)


def _files(help_text: str) -> serializers.ListField:
    return serializers.ListField(
        # An empty file is refused by the dataset check, by name, with the other refusals.
        child=serializers.FileField(allow_empty_file=True),
        required=False,
        help_text=help_text,
    )


class OwnerView(APIView):
    """The requesting user's jobs and LoRAs, and their teams'; anyone else's are not found (404,
    never 403). Lists show the space the request works in (teams/acting.py)."""

    acts_as_team = True

    def own_job(self, pk):
        job = selectors.training_get(user=self.request.user, job_id=pk, key_team=acting_key_team(self.request))
        if job is None:
            raise NotFound("Training not found")
        return job

    def own_lora(self, pk):
        lora = selectors.lora_get(user=self.request.user, lora_id=pk, key_team=acting_key_team(self.request))
        if lora is None:
            raise NotFound("LoRA not found")
        return lora

    def may_change(self, thing) -> None:
        """A team's job or LoRA is changed by its creator or the team's owners and admins."""
        team_object_delete_check(user=self.request.user, team_id=thing.team_id, creator_id=thing.user_id)


class UploadView(OwnerView):
    """Seed 004: multipart ``files[]`` (images, optional .txt captions) or one zip."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "TrainingUploadInput"

        def get_fields(self):
            # ``files[]`` is seed 004's part name, which no Python attribute can spell.
            return {
                "files[]": _files(
                    "Images (PNG, JPEG, WebP, BMP) with optional same-name .txt captions, or one .zip of them"
                ),
                "files": _files("Read when files[] is absent"),
                "file": _files("Read when files[] and files are absent"),
                "zip": _files("One .zip of images and captions, instead of files[]"),
            }

        def validate(self, attrs):
            files = attrs.get("files[]") or attrs.get("files") or attrs.get("file") or []
            return {"files": files, "zips": attrs.get("zip") or []}

    class OutputSerializer(SuccessSerializer, TrainingDatasetSerializer):
        status = constant("success")

        class Meta:
            ref_name = "TrainingUpload"

    @extend_schema(
        operation_id="training_upload",
        request={"multipart/form-data": InputSerializer},
        # 200, as seed 004 answers it: the upload is checked and stored for a training to use.
        responses={200: OutputSerializer},
    )
    def post(self, request):
        # Before the body is parsed: a body larger than the plan allows is refused unread.
        length = parse_int(request.META.get("CONTENT_LENGTH") or "0") or 0
        services.dataset_upload_size_check(user=request.user, content_length=length)
        payload = self.InputSerializer(data=request.FILES)
        payload.is_valid(raise_exception=True)
        dataset = services.dataset_upload(user=request.user, **payload.validated_data)
        return Response(self.OutputSerializer(dataset).data)


class DatasetView(OwnerView):
    # The owner's own bytes (core.throttling).
    ratelimit_exempt = True
    # A dataset is its uploader's: a team key must not open its maker's.
    acts_as_team = False

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

    @extend_schema(
        operation_id="training_dataset_public",
        parameters=[
            OpenApiParameter("t", str, description="The link's timestamp"),
            OpenApiParameter("s", str, description="The link's signature"),
        ],
        responses={(200, "application/zip"): OpenApiTypes.BINARY},
    )
    def get(self, request, pk):
        dataset = selectors.dataset_public_get(
            dataset_id=pk, timestamp=request.query_params.get("t", ""), signature=request.query_params.get("s", "")
        )
        if dataset is None:
            raise NotFound("Dataset not found")
        return FileResponse(dataset.archive.open("rb"), content_type="application/zip", filename=f"{pk}.zip")


class StartView(OwnerView):
    # Quotes are cheap and the page asks for one at every change: only a real start counts
    # against the training rate limit (training_start counts it).
    ratelimit_group = "general"

    class InputSerializer(serializers.Serializer):
        images_data_url = serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=200_000_000,
            help_text="The images_data_url /api/training/upload answered, or a data:application/zip;base64,… URL. "
            "One of images_data_url and dataset_id is needed; dataset_id wins.",
        )
        dataset_id = serializers.UUIDField(required=False, help_text="The dataset_id /api/training/upload answered")
        trigger_word = serializers.RegexField(
            r"^[A-Za-z0-9_\-]{1,50}$",
            min_length=1,
            max_length=50,
            error_messages={"invalid": "Use 1 to 50 letters, digits, _ or -."},
        )
        steps = serializers.IntegerField(
            required=False,
            min_value=1,
            max_value=10000,
        )
        create_masks = serializers.BooleanField(required=False, default=True)
        provider = serializers.ChoiceField(
            choices=[],
            required=False,
            allow_blank=True,
            help_text="Blank or absent: the server's default training provider.",
        )
        base_model = serializers.CharField(required=False, allow_blank=True, max_length=200)
        rank = serializers.IntegerField(required=False, min_value=1, max_value=128)
        learning_rate = serializers.FloatField(required=False, min_value=1e-6, max_value=1.0)
        is_style = serializers.BooleanField(required=False, default=False)
        dry_run = serializers.BooleanField(
            required=False, default=False, help_text="Answer the price (200) instead of starting (201)"
        )

        class Meta:
            ref_name = "TrainingStartInput"

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            # The provider names and step ranges come from the registered providers
            # (training.providers), read when a request is validated or the schema is built
            # rather than when the URLs are loaded. The service checks the chosen provider's range.
            adapters = training_providers()
            names = [adapter.name for adapter in adapters]
            self.fields["steps"].help_text = "Default: the provider's. " + "; ".join(
                f"{adapter.name}: {adapter.min_steps} to {adapter.max_steps}, default {adapter.default_steps}"
                for adapter in adapters
            )
            provider = self.fields["provider"]
            provider.choices = names
            provider.error_messages["invalid_choice"] = (
                f"Unknown training provider '{{input}}'. Use one of: {', '.join(names)}."
            )

    class QuoteSerializer(SuccessSerializer):
        dry_run = constant(True)
        dataset_id = serializers.UUIDField(source="dataset.pk")
        provider = serializers.CharField()
        steps = serializers.IntegerField()
        cost = serializers.IntegerField(help_text="Credits the training would hold")
        credits_remaining = serializers.IntegerField()
        sufficient = serializers.BooleanField(help_text="Whether the balance covers the cost")
        estimated_seconds = serializers.IntegerField()

        class Meta:
            ref_name = "TrainingQuote"

    class OutputSerializer(SuccessSerializer):
        status = constant("training_started")
        training_id = serializers.UUIDField(source="job.pk")
        estimated_time = serializers.SerializerMethodField(help_text='e.g. "20-30 minutes"')
        estimated_seconds = serializers.IntegerField(source="job.estimated_seconds")
        webhook_url = serializers.SerializerMethodField(help_text="Its status, to poll (seed 004)")
        events_url = serializers.SerializerMethodField(help_text="Its live events (text/event-stream)")
        cost = serializers.IntegerField(source="job.cost", help_text="Credits held")
        credits_used = serializers.IntegerField(source="job.cost")
        credits_remaining = serializers.IntegerField()

        class Meta:
            ref_name = "TrainingStarted"

        def get_estimated_time(self, outcome) -> str:
            return training_estimate_text(outcome.job.estimated_seconds)

        def get_webhook_url(self, outcome) -> str:
            return f"/api/training/status/{outcome.job.pk}"

        def get_events_url(self, outcome) -> str:
            return f"/api/training/{outcome.job.pk}/events"

    @extend_schema(
        operation_id="training_start",
        request=InputSerializer,
        responses={201: OutputSerializer, 200: QuoteSerializer},
    )
    def post(self, request):
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        if data["dry_run"]:
            quote = services.training_quote(user=request.user, data=data)
            return Response(self.QuoteSerializer(quote).data)
        started = services.training_start(user=request.user, data=data, membership=acting_membership(request))
        return Response(self.OutputSerializer(started).data, status=status.HTTP_201_CREATED)


class StatusView(OwnerView):
    class OutputSerializer(SuccessSerializer, TrainingSerializer):
        class Meta:
            ref_name = "TrainingStatus"

    @extend_schema(operation_id="training_status", responses={200: OutputSerializer})
    def get(self, request, pk):
        return Response(self.OutputSerializer(self.own_job(pk)).data)


class TrainingListView(OwnerView):
    pagination_class = PageLimitPagination
    results_key = "trainings"

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(
            choices=Status.values,
            required=False,
            allow_blank=True,
            error_messages={"invalid_choice": f"Use one of: {', '.join(Status.values)}."},
        )

        class Meta:
            ref_name = "TrainingListFilter"

    @extend_schema(
        operation_id="training_list",
        parameters=[FilterSerializer],
        responses=TrainingBriefSerializer(many=True),
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        jobs = selectors.training_list(
            user=request.user, status=filters.validated_data.get("status") or None, team=acting_team(request)
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(jobs, request, view=self)
        return paginator.get_paginated_response(TrainingBriefSerializer(page, many=True).data)


class TrainingDetailView(OwnerView):
    class OutputSerializer(SuccessSerializer):
        training = TrainingSerializer(source="*")

        class Meta:
            ref_name = "TrainingResponse"

    class CancelSerializer(SuccessSerializer):
        message = constant("Training cancelled")
        training = TrainingSerializer(source="job")
        refunded = serializers.IntegerField(source="job.refunded", help_text="Credits given back")
        credits_remaining = serializers.IntegerField()

        class Meta:
            ref_name = "TrainingCancelled"

    @extend_schema(operation_id="training_retrieve", responses={200: OutputSerializer})
    def get(self, request, pk):
        return Response(self.OutputSerializer(self.own_job(pk)).data)

    @extend_schema(
        operation_id="training_cancel",
        summary="Cancel a training; the unused part of its hold is refunded",
        responses={200: CancelSerializer},
    )
    def delete(self, request, pk):
        job = self.own_job(pk)
        self.may_change(job)
        cancelled = services.training_cancel(job=job)
        return Response(self.CancelSerializer(cancelled).data)


class TrainingFileView(OwnerView):
    """The owner's files of a job: the weights, the config, the samples."""

    # The owner's own bytes, each part of a page or answer already counted (core.throttling).
    ratelimit_exempt = True

    @extend_schema(operation_id="training_file", responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request, pk, name):
        served = selectors.training_file(job=self.own_job(pk), name=name)
        if served is None:
            raise NotFound("File not found")
        return FileResponse(served.open(), content_type=served.content_type, filename=served.filename)


class TrainingEventsView(OwnerView):
    # A stream of a training that was counted when it was started (core.throttling).
    ratelimit_exempt = True

    def get_renderers(self):
        return [JSONRenderer(), EventStreamRenderer()]

    @extend_schema(
        operation_id="training_events",
        summary="Live events (text/event-stream) until the training ends",
        parameters=[
            OpenApiParameter(
                "Last-Event-ID",
                # parse_int's bounds: at most 18 ASCII digits.
                {"type": "integer", "minimum": 0, "maximum": 10**18 - 1},
                OpenApiParameter.HEADER,
                description="Resume after this event id",
            )
        ],
        responses={(200, "text/event-stream"): TrainingEventSerializer},
    )
    def get(self, request, pk):
        job = self.own_job(pk)
        last_event_id = parse_int(request.headers.get("Last-Event-ID", "0"))
        if last_event_id is None:
            raise ValidationFailed(details={"Last-Event-ID": ["Must be an event id."]})
        options = {"job_id": job.pk, "last_event_id": last_event_id}
        if served_by_asgi(request):
            # An async stream holds no thread; the request's thread gives its connection back.
            release_database_connections()
            stream = training_event_stream_async(**options)
        else:
            stream = training_event_stream(**options)
        response = StreamingHttpResponse(stream, content_type="text/event-stream")
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"
        return response


class LoraListView(OwnerView):
    pagination_class = PageLimitPagination
    results_key = "loras"

    @extend_schema(operation_id="lora_list", responses=LoraSerializer(many=True))
    def get(self, request):
        paginator = self.pagination_class()
        loras = selectors.lora_list(user=request.user, team=acting_team(request))
        page = paginator.paginate_queryset(loras, request, view=self)
        return paginator.get_paginated_response(LoraSerializer(page, many=True).data)


class LoraDetailView(OwnerView):
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(
            max_length=100,
            # Surrounding spaces are trimmed, so a name must have something else.
            validators=[RegexValidator(r"\S", message="Use 1 to 100 characters.")],
        )

        class Meta:
            ref_name = "LoraRenameInput"

        # The name is required on this PATCH: never partial, also when the schema generator
        # documents the body (it makes every PATCH body partial).
        @property
        def partial(self) -> bool:
            return False

        @partial.setter
        def partial(self, value) -> None:
            pass

    class OutputSerializer(SuccessSerializer):
        lora = LoraSerializer(source="*")

        class Meta:
            ref_name = "LoraResponse"

    @extend_schema(operation_id="lora_retrieve", responses={200: OutputSerializer})
    def get(self, request, pk):
        return Response(self.OutputSerializer(self.own_lora(pk)).data)

    @extend_schema(operation_id="lora_rename", request=InputSerializer, responses={200: OutputSerializer})
    def patch(self, request, pk):
        lora = self.own_lora(pk)
        self.may_change(lora)
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        lora = services.lora_rename(lora=lora, name=payload.validated_data["name"])
        return Response(self.OutputSerializer(lora).data)

    @extend_schema(operation_id="lora_delete", responses={200: message_envelope("LoraDeleted")})
    def delete(self, request, pk):
        lora = self.own_lora(pk)
        self.may_change(lora)
        services.lora_delete(lora=lora)
        return Response({"success": True, "message": "LoRA deleted"})
