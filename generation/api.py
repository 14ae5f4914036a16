import logging
import math

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.response import Response

from core.errors import NotFound, PayloadTooLarge
from core.numbers import parse_int
from core.pagination import PageLimitPagination
from core.schema import envelope, message_envelope
from credits.selectors import credits_balance
from credits.team_selectors import team_wallet_balance
from gallery.models import Asset
from gallery.serializers import AssetSerializer
from gallery.services import asset_thumbnail_build
from generation import selectors, services
from generation.models import Generation, Status
from generation.serializers import (
    CancelManyInputSerializer,
    GenerateInputSerializer,
    GenerationListQuerySerializer,
    GenerationSerializer,
    generate_input,
    idempotency_key_of,
)
from generation.services.lifecycle import generation_cancel_many
from generation.webhook_schema import GENERATION_WEBHOOK
from teams.acting import acting_key_team, acting_team
from teams.policy import team_object_delete_check
from teams.schema import TEAM_PARAMETER

logger = logging.getLogger(__name__)

_ANSWER = envelope(
    "GenerationAnswer",
    "generation",
    GenerationSerializer,
    credits_used=serializers.IntegerField(),
    credits_remaining=serializers.IntegerField(),
    results=AssetSerializer(many=True, required=False, help_text="Present when the generation finished in time"),
)
_QUOTE = envelope(
    "GenerationQuote",
    dry_run=serializers.BooleanField(),
    model=serializers.CharField(),
    num_images=serializers.IntegerField(),
    cost=serializers.IntegerField(),
    credits_remaining=serializers.IntegerField(),
    sufficient=serializers.BooleanField(),
)
_CANCELLED_MANY = envelope(
    "GenerationsCancelled",
    cancelled=serializers.IntegerField(help_text="How many of your jobs were cancelled"),
    generation_ids=serializers.ListField(child=serializers.UUIDField()),
    credits_refunded=serializers.IntegerField(help_text="Credits given back for them, in all"),
    credits_remaining=serializers.IntegerField(
        help_text="The refunded wallet's balance: the team's when acting as one"
    ),
)
_PREFER = OpenApiParameter(
    "Prefer",
    str,
    OpenApiParameter.HEADER,
    description=(
        "`wait` or `wait=N` (RFC 7240): hold the request up to N seconds (default 60, at most "
        "ATELIER_SYNC_WAIT_MAX_SECONDS) for the generation to end; 201 with `results` if it did, "
        "202 if it is still running. A malformed value (`wait=abc`) is ignored, as RFC 7240 says."
    ),
)
_PREFERENCE_APPLIED = OpenApiParameter(
    "Preference-Applied",
    str,
    OpenApiParameter.HEADER,
    response=[201, 202],
    description="`wait=N`: the seconds the request was held for at most, when `Prefer: wait` was honoured.",
)
# What a bare ``Prefer: wait`` waits, as Replicate's synchronous mode does.
_PREFER_WAIT_DEFAULT_SECONDS = 60


def _preferred_wait(request) -> float | None:
    """The seconds a ``Prefer: wait[=N]`` header asks to hold the request, cut to
    ``ATELIER_SYNC_WAIT_MAX_SECONDS``; None when it asks nothing we understand.

    RFC 7240 §2: a server ignores a preference it does not understand, so a malformed ``wait``
    (``wait=abc``, ``wait=-1``) is ignored rather than refused. Several ``Prefer`` headers
    arrive joined by commas; a preference's own parameters (after ``;``) are ignored.
    """
    for preference in request.headers.get("Prefer", "").split(","):
        name, has_value, value = preference.split(";", 1)[0].partition("=")
        if name.strip().lower() != "wait":
            continue
        value = value.strip().strip('"')
        if not has_value:
            seconds = _PREFER_WAIT_DEFAULT_SECONDS
        elif value.isascii() and value.isdigit():
            seconds = int(value)
        else:
            return None
        return min(seconds, settings.ATELIER_SYNC_WAIT_MAX_SECONDS)
    return None


def _seconds(value: float) -> str:
    return str(int(value)) if value == math.floor(value) else f"{value:g}"


def _refuse_oversized_body(request) -> None:
    """Refuses, before reading it, a body larger than an image and a mask at their limits can be.

    Each file is checked against its own limit once parsed; this keeps a huge upload from being
    written to a temporary file first.
    """
    limit = 2 * settings.ATELIER_UPLOAD_MAX_IMAGE_BYTES + settings.ATELIER_UPLOAD_MAX_FORM_OVERHEAD_BYTES
    length = parse_int(request.META.get("CONTENT_LENGTH")) or 0
    if length > limit:
        raise PayloadTooLarge(details=f"The request body is {length} bytes; the most accepted is {limit}.")


def _waits(request, data: dict) -> bool:
    """``sync_mode`` as asked; unasked, a form post waits (seed 001's clients post forms and read
    ``results`` from the answer) and a JSON post does not."""
    if data.get("sync_mode") is not None:
        return data["sync_mode"]
    return (request.content_type or "").startswith("multipart/form-data")


def _with_thumbnails(assets: list[Asset]) -> list[Asset]:
    """The assets, each with its thumbnail: one still missing is made here rather than by its
    task. A thumbnail that cannot be made leaves ``thumbnail_url`` null, as it would be anyway."""
    for asset in assets:
        if not asset.thumbnail:
            # The task may have made it since the row was read.
            asset.refresh_from_db(fields=["thumbnail"])
        if asset.thumbnail:
            continue
        try:
            asset_thumbnail_build(asset=asset)
        except Exception:
            logger.exception("Could not make the thumbnail of asset %s for a finished generation", asset.pk)
    return assets


class GenerationViewSet(viewsets.GenericViewSet):
    """Create generations, follow them, list them and cancel them. (Their live events have their
    own view, ``generation.event_views``.)"""

    serializer_class = GenerationSerializer
    pagination_class = PageLimitPagination
    results_key = "generations"
    # Submissions are counted by generation_submit, whichever route they come by.
    ratelimit_groups = {"create": None}
    # X-Atelier-Team, a team key or the session's space make and list the team's (teams/acting.py).
    acts_as_team = True

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Generation.objects.none()
        query = GenerationListQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return selectors.generation_list(
            user=self.request.user, status=query.validated_data.get("status"), team=acting_team(self.request)
        )

    def _get_own(self, pk) -> Generation:
        generation = selectors.generation_get(
            user=self.request.user, generation_id=pk, key_team=acting_key_team(self.request)
        )
        if generation is None:
            raise NotFound("Generation not found")
        return generation

    @extend_schema(
        request=GenerateInputSerializer,
        parameters=[
            OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER),
            _PREFER,
            _PREFERENCE_APPLIED,
            TEAM_PARAMETER,
        ],
        responses={
            201: OpenApiResponse(_ANSWER, description="Queued; with Prefer: wait, finished in time"),
            200: PolymorphicProxySerializer(
                "GenerationFinishedOrQuote",
                serializers=[_ANSWER, _QUOTE],
                resource_type_field_name=None,
            ),
            202: OpenApiResponse(_ANSWER, description="sync_mode or Prefer: wait: still running at the bound"),
        },
        callbacks=[GENERATION_WEBHOOK],
    )
    def create(self, request):
        _refuse_oversized_body(request)
        key = idempotency_key_of(request)
        data = generate_input(request.data)
        if data["dry_run"]:
            quote = services.generation_quote(user=request.user, data=data, team=acting_team(request))
            return Response({"success": True, "dry_run": True, **quote})
        preferred = _preferred_wait(request)
        wait = preferred is not None or _waits(request, data)
        submitted = services.generation_submit(
            user=request.user, data=data, wait=wait, idempotency_key=key, timeout=preferred, team=acting_team(request)
        )
        generation = submitted.generation
        # Seed 001's clients show the results' thumbnails at once: those the thumbnail task has
        # not made yet are made now, before either list of images is written.
        results = _with_thumbnails(list(generation.assets.all())) if submitted.completed else None
        context = self._answer_context(submitted, waited=wait)
        body = {
            "success": True,
            "generation": self.get_serializer(generation, context=context).data,
            "credits_used": generation.cost,
            "credits_remaining": submitted.credits_remaining,
        }
        if results is not None:
            body["results"] = AssetSerializer(results, many=True, context={"request": request}).data
        if not wait:
            return Response(body, status=status.HTTP_201_CREATED)
        if preferred is not None:
            # Replicate's synchronous mode: 201 once it has ended, 202 while it still runs.
            code = status.HTTP_201_CREATED if submitted.finished else status.HTTP_202_ACCEPTED
            return Response(body, status=code, headers={"Preference-Applied": f"wait={_seconds(preferred)}"})
        return Response(body, status=status.HTTP_200_OK if submitted.finished else status.HTTP_202_ACCEPTED)

    def _answer_context(self, submitted: services.Submitted, *, waited: bool) -> dict:
        return {
            **self.get_serializer_context(),
            "queue_position": submitted.queue_position,
            "submitted": "waited" if waited else "queued",
        }

    @extend_schema(parameters=[OpenApiParameter("status", str, enum=Status.values), TEAM_PARAMETER])
    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        responses=envelope("GenerationResponse", "generation", GenerationSerializer), parameters=[TEAM_PARAMETER]
    )
    def retrieve(self, request, pk=None):
        return Response({"success": True, "generation": self.get_serializer(self._get_own(pk)).data})

    @extend_schema(
        summary="Cancel a queued or running generation",
        responses={200: message_envelope("GenerationCancelled")},
        parameters=[TEAM_PARAMETER],
    )
    def destroy(self, request, pk=None):
        generation = self._get_own(pk)
        team_object_delete_check(user=request.user, team_id=generation.team_id, creator_id=generation.user_id)
        services.generation_cancel(generation=generation)
        return Response({"success": True, "message": "Generation cancelled successfully"})

    @extend_schema(
        summary="Cancel many of your generations at once",
        request=CancelManyInputSerializer,
        responses={200: _CANCELLED_MANY},
        parameters=[TEAM_PARAMETER],
    )
    def cancel_many(self, request):
        """``{"status": "in_queue"}``: every job of yours waiting to start (the running ones go on);
        ``{"all": true}``: every unfinished job of yours. Each is refunded once, as a single cancel is.
        In a team's space: the team's jobs you may cancel (yours; every member's for its owners and
        admins), refunded to the team's wallet."""
        payload = CancelManyInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        team = acting_team(request)
        cancelled = generation_cancel_many(
            user=request.user, waiting_only=not payload.validated_data.get("all"), team=team
        )
        remaining = credits_balance(user=request.user) if team is None else team_wallet_balance(team_id=team.pk)
        return Response(
            {
                "success": True,
                "cancelled": len(cancelled.generation_ids),
                "generation_ids": [str(pk) for pk in cancelled.generation_ids],
                "credits_refunded": cancelled.credits_refunded,
                "credits_remaining": remaining,
            }
        )
