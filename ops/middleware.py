from ops.request_context import accept_or_create, reset_request_id, set_request_id


class RequestIDMiddleware:
    """Gives every request an id (the client's X-Request-ID when sane) and echoes it back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = accept_or_create(request.headers.get("X-Request-ID"))
        request.request_id = request_id
        token = set_request_id(request_id)
        try:
            response = self.get_response(request)
        finally:
            reset_request_id(token)
        response["X-Request-ID"] = request_id
        return response
