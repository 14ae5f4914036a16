import logging

from core.request_context import get_request_id


class RequestIDFilter(logging.Filter):
    """Adds ``request_id`` to every log record so log lines can be joined to responses."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = get_request_id()
        return True
