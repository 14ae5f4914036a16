"""The current request id, visible to logging and error rendering in the same context."""

import re
import uuid
from contextvars import ContextVar

_request_id: ContextVar[str] = ContextVar("request_id", default="-")
_VALID_CLIENT_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def new_request_id() -> str:
    return f"req_{uuid.uuid4().hex}"


def accept_or_create(client_value: str | None) -> str:
    """Keep the client's X-Request-ID when it is a sane token, else make a new one."""
    if client_value and _VALID_CLIENT_ID.match(client_value):
        return client_value
    return new_request_id()


def get_request_id() -> str:
    return _request_id.get()


def set_request_id(value: str):
    return _request_id.set(value)


def reset_request_id(token) -> None:
    _request_id.reset(token)


def served_by_asgi(request) -> bool:
    """Whether an ASGI server hands us the request (an ASGI request carries its ``scope``; DRF's
    request passes the attribute on from the HttpRequest it wraps). A view that streams answers
    such a request with an async iterator, which waits on the event loop and holds no thread."""
    return isinstance(getattr(request, "scope", None), dict)
