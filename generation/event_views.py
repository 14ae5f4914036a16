"""``GET /api/generate/{id}/events``: a generation's live events as server-sent events.

The view checks who asks and which generation, then hands the stream to the server: an async
iterator under ASGI (``gunicorn config.asgi -k uvicorn_worker.UvicornWorker``), where a
thousand open streams wait on one event loop, and a plain one under WSGI and the development
server, where each stream holds a thread. Under ASGI the view first gives its database
connection back (``core.jobs.release_database_connections``): the stream reads through the
loop's thread pool.
"""

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from core.errors import NotFound, ValidationFailed
from core.jobs import release_database_connections
from core.numbers import parse_int
from core.request_context import served_by_asgi
from generation import selectors
from generation.event_stream import generation_event_stream, generation_event_stream_async
from generation.renderers import EventStreamRenderer
from teams.acting import acting_key_team


class GenerationEventsView(APIView):
    # A stream of a generation that was counted when it was made (core.throttling).
    ratelimit_exempt = True
    # A browser's EventSource asks for text/event-stream; without a renderer for it, content
    # negotiation would refuse the stream with a 406.
    renderer_classes = [JSONRenderer, EventStreamRenderer]
    # A team key follows its team's generations (teams/acting.py).
    acts_as_team = True

    @extend_schema(
        summary="Live events (text/event-stream) until the generation ends",
        description=(
            "Server-sent events; each event's data is a JSON object. Stored events carry an `id` "
            '(resume with `Last-Event-ID`): `status` `{"status"}`, `progress` `{"progress"}`, '
            '`log` `{"at", "message"}`. Without an id: `queue_position` `{"queue_position"}` '
            "and `preview`, an in-progress picture while the job runs (unless the request said "
            '`previews: false`): `{"index", "image": "data:image/webp;base64,…", "width", '
            '"height", "step", "total_steps"}` (long side at most ATELIER_PREVIEW_MAX_SIDE, '
            "at most one per ATELIER_PREVIEW_MIN_INTERVAL_MS, `step`/`total_steps` null where the "
            "provider does not say; a slow reader gets the newest, not every one). The stream ends "
            "after the terminal status."
        ),
        parameters=[OpenApiParameter("Last-Event-ID", {"type": "integer", "minimum": 0}, OpenApiParameter.HEADER)],
        responses={(200, "text/event-stream"): OpenApiTypes.OBJECT},
    )
    def get(self, request, pk):
        generation = selectors.generation_get(user=request.user, generation_id=pk, key_team=acting_key_team(request))
        if generation is None:
            raise NotFound("Generation not found")
        # Parsed as every number from a request is (core.numbers): "²" passes isdigit(), not int().
        last_event_id = parse_int(request.headers.get("Last-Event-ID", "0"))
        if last_event_id is None:
            raise ValidationFailed(details={"Last-Event-ID": ["Must be an event id."]})
        options = {"generation_id": generation.pk, "last_event_id": last_event_id}
        if served_by_asgi(request):
            release_database_connections()
            stream = generation_event_stream_async(**options)
        else:
            stream = generation_event_stream(**options)
        response = StreamingHttpResponse(stream, content_type="text/event-stream")
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"
        return response
