"""``POST /sdapi/v1/interrupt`` and ``/skip``: stop the caller's current job, as A1111's buttons
stop the one it runs. Here a job is the whole batch, so both cancel it (refunded, as any cancel
is); the caller's other jobs, and every other user's, are left alone. The ``txt2img`` or
``img2img`` request that waits for it then answers with no images, as A1111 answers an
interrupted one.
"""

from django.http import JsonResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema

from core.errors import Conflict
from generation.services import generation_cancel
from legacy.automatic1111.common import A1111View, current_generation
from legacy.schema import A1111_ERRORS, A1111_TAG, NULL_ANSWER


def _cancel_current(user) -> None:
    generation = current_generation(user=user)
    if generation is None:
        return  # nothing runs: as in A1111, a no-op
    try:
        generation_cancel(generation=generation)
    except Conflict:
        pass  # it ended meanwhile


@extend_schema(
    tags=[A1111_TAG],
    summary="Cancel your current job (refunded); answers {}",
    request=None,
    responses={200: OpenApiTypes.OBJECT, **A1111_ERRORS},
)
class InterruptView(A1111View):
    def post(self, request):
        _cancel_current(request.user)
        return JsonResponse({})


@extend_schema(
    tags=[A1111_TAG],
    summary="Cancel your current job, as interrupt (a job is the whole batch); answers null",
    request=None,
    responses={200: NULL_ANSWER, **A1111_ERRORS},
)
class SkipView(A1111View):
    def post(self, request):
        _cancel_current(request.user)
        # A1111 answers null.
        return JsonResponse(None, safe=False)
