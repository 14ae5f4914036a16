"""The error envelope every API error is rendered in (DESIGN.md §4)."""

from datetime import UTC, datetime
from typing import Any

from core.request_context import get_request_id


def error_body(*, error: str, type: str, status: int, details: Any = None, **extra: Any) -> dict:
    body = {
        "success": False,
        "error": error,
        "details": details,
        "type": str(type),
        "code": status,
        "request_id": get_request_id(),
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    body.update(extra)
    return body
