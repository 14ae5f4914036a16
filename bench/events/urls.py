"""The product's URLs (through bench.urls) and the polling stream it replaced, for comparison."""

from django.http import StreamingHttpResponse
from django.urls import include, path

from bench.events.polling import polling_event_stream


def poll_events(request, pk):
    # No authentication: the comparison is about the stream, which both designs open after the
    # same checks.
    response = StreamingHttpResponse(polling_event_stream(generation_id=pk), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    return response


urlpatterns = [
    path("bench/poll-events/<uuid:pk>", poll_events),
    path("", include("bench.urls")),
]
