import json

from rest_framework.renderers import BaseRenderer


class EventStreamRenderer(BaseRenderer):
    """Lets a browser's EventSource (``Accept: text/event-stream``) pass content negotiation.

    The stream itself is a StreamingHttpResponse and is not rendered; only an error answer to
    such a request (a 404, say) comes through here, as its JSON envelope.
    """

    media_type = "text/event-stream"
    format = "event-stream"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return json.dumps(data, default=str).encode() if data is not None else b""
