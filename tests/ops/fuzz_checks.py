"""Schemathesis checks of our own, loaded by the fuzz run (SCHEMATHESIS_HOOKS=tests.ops.fuzz_checks)."""

import schemathesis

ENVELOPE_KEYS = {"success", "error", "details", "type", "code", "request_id", "timestamp"}


@schemathesis.check
def error_envelope(ctx, response, case):
    """Every error answer is the envelope of DESIGN.md §4, with its status as ``code``."""
    if response.status_code < 400:
        return None
    if case.operation.path == "/health":
        # The health report keeps its own shape when a check fails (503), for load balancers.
        return None
    content_type = response.headers.get("content-type", [""])
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    if not content_type.startswith("application/json"):
        raise AssertionError(f"{response.status_code} answered as {content_type!r}, not the JSON envelope")
    body = response.json()
    if not isinstance(body, dict) or not ENVELOPE_KEYS <= set(body):
        raise AssertionError(f"{response.status_code} is not the error envelope: {str(body)[:300]}")
    if body["success"] is not False or body["code"] != response.status_code:
        status = response.status_code
        raise AssertionError(f"Envelope of a {status} says success={body['success']}, code={body['code']}")
    request_id = response.headers.get("x-request-id", [""])
    request_id = request_id[0] if isinstance(request_id, list) else request_id
    if body["request_id"] != request_id:
        raise AssertionError("The envelope's request_id differs from X-Request-ID")
    return None
