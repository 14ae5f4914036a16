"""What the synchronous seed routes share: submitting a generation and waiting for it, and the
202 answer for one still running when the wait ends.

Every seed route that waits validates its request into the canonical parameters and calls
``submit_and_wait``: ``generation_submit`` creates (and charges) the generation and waits for it
without holding a transaction, within ``ATELIER_SYNC_TIMEOUT_SECONDS``, and the route shapes the
answer. A job still running at that bound is answered 202 with where to follow it, never dropped.
"""

from collections.abc import Callable

from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers, status
from rest_framework.response import Response

from core.errors import ApplicationError
from core.schema import envelope
from generation.models import Generation
from generation.serializers import generate_input, idempotency_key_of
from generation.services import Submitted, generation_failure, generation_submit

STILL_RUNNING = OpenApiResponse(
    envelope(
        "StillRunning",
        status=serializers.CharField(),
        generation_id=serializers.UUIDField(),
        status_url=serializers.URLField(help_text="GET it to follow the generation"),
    ),
    description="Still running when the wait ended: follow status_url",
)


def submit_and_wait(
    request,
    data: dict,
    *,
    api: str,
    failure: Callable[[Generation], ApplicationError] = generation_failure,
    answer_cancelled: bool = False,
    end_user: str = "",
) -> Submitted:
    """Submits the generation ``data`` asks for through ``api`` (``Generation.Api``, which the
    gallery shows) and waits for it; a generation that ended without images raises
    ``failure(generation)`` (the canonical error unless the seed names its own), except a
    cancelled one with ``answer_cancelled`` (the route answers it, as A1111 answers an
    interrupted job). ``end_user``: the end user the calling app named (OpenAI's ``user``)."""
    submitted = generation_submit(
        user=request.user,
        data=generate_input(data),
        wait=True,
        idempotency_key=idempotency_key_of(request),
        api=api,
        end_user=end_user,
    )
    cancelled = submitted.generation.status == Generation.Status.CANCELLED
    if submitted.finished and not submitted.completed and not (answer_cancelled and cancelled):
        raise failure(submitted.generation)
    return submitted


def still_running(request, submitted: Submitted) -> Response:
    generation = submitted.generation
    return Response(
        {
            "success": True,
            "status": generation.status,
            "generation_id": str(generation.pk),
            "status_url": request.build_absolute_uri(reverse("generation-detail", args=[generation.pk])),
        },
        status=status.HTTP_202_ACCEPTED,
    )
