"""The project's middleware. Each one runs on both paths: as plain calls under WSGI, and as
coroutines on the event loop under ASGI, so that Django never adapts one of them (an adapted link
would run the whole chain around it in a thread and cross back to the loop for the rest)."""

import sys

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.contrib.auth import middleware as auth_middleware
from django.core.exceptions import SuspiciousOperation
from django.core.signals import got_request_exception
from django.db import connections
from django.http import HttpResponse, JsonResponse
from django.middleware import common
from whitenoise.middleware import WhiteNoiseMiddleware

from core.envelope import error_body
from core.errors import DatabaseBusy, ErrorType
from core.exception_handler import database_busy_error, suspicious_request_error
from core.request_context import accept_or_create, reset_request_id, set_request_id


class SyncAndAsyncMiddleware:
    """A middleware with a sync and an async path: Django gives it the kind of ``get_response``
    its place in the chain calls for, and it answers in the same kind. Subclasses write ``call``
    (the sync path) and ``__acall__`` (the async one, named as Django's MiddlewareMixin names it)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self.is_async:
            return self.__acall__(request)
        return self.call(request)

    def call(self, request):
        raise NotImplementedError

    async def __acall__(self, request):
        raise NotImplementedError


class RequestIDMiddleware(SyncAndAsyncMiddleware):
    """Gives every request an id (the client's X-Request-ID when sane) and echoes it back."""

    def call(self, request):
        request_id = _request_id(request)
        token = set_request_id(request_id)
        try:
            response = self.get_response(request)
        finally:
            reset_request_id(token)
        response["X-Request-ID"] = request_id
        if response.streaming:
            _release_database_connections()
        return response

    async def __acall__(self, request):
        request_id = _request_id(request)
        token = set_request_id(request_id)
        try:
            response = await self.get_response(request)
        finally:
            reset_request_id(token)
        response["X-Request-ID"] = request_id
        if response.streaming:
            # The connections belong to the request's thread, where the view and the session ran.
            await sync_to_async(_release_database_connections)()
        return response


def _request_id(request) -> str:
    request.request_id = accept_or_create(request.headers.get("X-Request-ID"))
    return request.request_id


def _release_database_connections() -> None:
    """A streaming answer (live events) outlasts its request, and the request's thread keeps its
    database connections until the stream ends. Every middleware has run by now (a session
    saved on the way out took a connection again): give them back to the pool, so that open
    streams hold none. A stream that reads the database takes one for each read."""
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()


_STATUS_ERRORS = {
    400: ("Bad request", ErrorType.VALIDATION_ERROR),
    401: ("Authentication required", ErrorType.AUTHENTICATION_REQUIRED),
    403: ("Permission denied", ErrorType.PERMISSION_DENIED),
    404: ("Not found", ErrorType.NOT_FOUND),
    405: ("Method not allowed", ErrorType.METHOD_NOT_ALLOWED),
    406: ("Not acceptable", ErrorType.NOT_ACCEPTABLE),
    413: ("Request body too large", ErrorType.PAYLOAD_TOO_LARGE),
    415: ("Unsupported media type", ErrorType.UNSUPPORTED_MEDIA_TYPE),
    416: ("Range not satisfiable", ErrorType.VALIDATION_ERROR),
    429: ("Too many requests, please try again later", ErrorType.RATE_LIMITED),
}
# Headers of an error answer that a client needs to act on it (a 416 gives the file's size).
_KEPT_HEADERS = ("Retry-After", "Allow", "WWW-Authenticate", "Content-Range")


class APIErrorEnvelopeMiddleware(SyncAndAsyncMiddleware):
    """API clients get every error in the envelope, whoever produced it.

    DRF views render their errors through core.exception_handler; this covers the rest: Django's
    refusals of hostile bodies in plain views (too many fields or files, a body too large), the
    CSRF failure page, and, with DEBUG on, the debug pages of unmatched URLs and errors, which
    list every URL pattern and must never reach an API client.
    """

    def call(self, request):
        return self._enveloped(request, self.get_response(request))

    async def __acall__(self, request):
        return self._enveloped(request, await self.get_response(request))

    def _enveloped(self, request, response):
        if response.status_code == 500 and isinstance(getattr(request, "_atelier_database_busy", None), DatabaseBusy):
            # A middleware (a session read or save) found no database connection in time.
            return _busy_response(request, request._atelier_database_busy)
        if response.status_code < 400 or not wants_json(request) or _is_json(response):
            return response
        return _envelope_for(response)

    # Django calls process_exception on the sync path only (in a thread under ASGI), whichever
    # path the middleware runs on.
    def process_exception(self, request, exception):
        busy = database_busy_error(exception)
        if busy is not None:
            return _busy_response(request, busy)
        if not isinstance(exception, SuspiciousOperation) or not wants_json(request):
            return None
        error = suspicious_request_error(exception)
        body = error_body(error=error.message, type=error.type, status=error.http_status, details=error.details)
        return JsonResponse(body, status=error.http_status)


def _busy_response(request, error: DatabaseBusy) -> HttpResponse:
    retry_after = str(error.extra["retry_after"])
    if wants_json(request):
        body = error_body(
            error=error.message, type=error.type, status=error.http_status, details=error.details, **error.extra
        )
        response = JsonResponse(body, status=error.http_status)
    else:
        response = HttpResponse(error.message, status=error.http_status, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = retry_after
    return response


def _remember_database_busy(sender, request=None, **kwargs) -> None:
    """Django turns an exception raised inside a middleware into a 500 before an outer
    middleware sees it; it sends this signal first, while the exception is being handled. A
    database that had no room is remembered, so that APIErrorEnvelopeMiddleware answers 503."""
    exception = sys.exc_info()[1]
    if request is not None and exception is not None:
        busy = database_busy_error(exception)
        if busy is not None:
            request._atelier_database_busy = busy


got_request_exception.connect(_remember_database_busy, dispatch_uid="core.middleware.database_busy")


def wants_json(request) -> bool:
    """API paths always; elsewhere, clients that do not ask for HTML."""
    accept = request.headers.get("Accept", "")
    return "text/html" not in accept or request.path.startswith(("/api/", "/admin/api/", "/auth/"))


def _is_json(response) -> bool:
    return response.get("Content-Type", "").startswith(("application/json", "application/problem+json"))


def _envelope_for(response) -> JsonResponse:
    status = response.status_code
    if status >= 500:
        message, error_type = "Internal server error", ErrorType.SERVER_ERROR
    else:
        message, error_type = _STATUS_ERRORS.get(status, ("Request refused", ErrorType.VALIDATION_ERROR))
    envelope = JsonResponse(error_body(error=message, type=error_type, status=status), status=status)
    for name in _KEPT_HEADERS:
        if name in response:
            envelope[name] = response[name]
    return envelope


class ContentSecurityPolicyMiddleware(SyncAndAsyncMiddleware):
    """Sends ATELIER_CONTENT_SECURITY_POLICY with every HTML page (Django 5.2 has no CSP of its own)."""

    def __init__(self, get_response):
        super().__init__(get_response)
        self.policy = settings.ATELIER_CONTENT_SECURITY_POLICY

    def call(self, request):
        return self._with_policy(self.get_response(request))

    async def __acall__(self, request):
        return self._with_policy(await self.get_response(request))

    def _with_policy(self, response):
        if self.policy and response.get("Content-Type", "").startswith("text/html"):
            response.setdefault("Content-Security-Policy", self.policy)
        return response


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise's static files, on both paths.

    WhiteNoise's own middleware is sync only: under ASGI, Django would run every request
    through it in a thread. Here a request that is not for a static file passes on the event loop
    (the files are a dictionary in memory); a static file is opened and answered in a thread.
    With WHITENOISE_AUTOREFRESH (development) the lookup reads the disk, so it runs in a thread too.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response=None, settings=settings):
        super().__init__(get_response, settings=settings)
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self.is_async:
            return self.__acall__(request)
        return super().__call__(request)

    async def __acall__(self, request):
        if self.autorefresh:
            static_file = await sync_to_async(self.find_file)(request.path_info)
        else:
            static_file = self.files.get(request.path_info)
        if static_file is None:
            return await self.get_response(request)
        return await sync_to_async(self.serve)(static_file, request)


class _HooksOnTheLoop:
    """Django middleware whose hooks only read the request and set headers, redirects or lazy
    objects, with no I/O: on the async path they run on the event loop. MiddlewareMixin runs each
    hook in the request's thread instead, two thread switches per hook whatever it does, and on a
    busy machine each switch waits for the scheduler. A hook that touched the database here would
    raise SynchronousOnlyOperation, not block the loop. The sync path is Django's own.

    Django's security and clickjacking middleware qualify too, but ``check --deploy`` looks for
    them by their own dotted paths, so they keep their hops."""

    async def __acall__(self, request):
        response = self.process_request(request) if hasattr(self, "process_request") else None
        response = response or await self.get_response(request)
        if hasattr(self, "process_response"):
            response = self.process_response(request, response)
        return response


class CommonMiddleware(_HooksOnTheLoop, common.CommonMiddleware):
    pass


class AuthenticationMiddleware(_HooksOnTheLoop, auth_middleware.AuthenticationMiddleware):
    pass
