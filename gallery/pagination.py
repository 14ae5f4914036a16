"""Two ways through a gallery: ``page``+``limit`` (the seeds' shape) and an opaque keyset cursor.

A cursor names the last row shown, (created_at, id), and the next page starts right after it
with an index seek, so its cost does not grow with depth and rows that arrive meanwhile
neither repeat nor push others out of the way.
"""

import base64
import binascii
import json
import uuid
from datetime import datetime

from django.db.models import Q
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from core.pagination import PageLimitPagination


def sort_of(request) -> str:
    return "oldest" if request.query_params.get("sort") == "oldest" else "newest"


def encode_cursor(*, created_at: datetime, id, sort: str) -> str:
    raw = json.dumps([created_at.isoformat(), str(id), sort[0]], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str, *, sort: str) -> tuple[datetime, uuid.UUID]:
    try:
        created, ident, direction = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        position = datetime.fromisoformat(created), uuid.UUID(ident)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ValidationError({"cursor": ["Invalid cursor."]}) from None
    if direction != sort[0]:
        raise ValidationError({"cursor": ["This cursor belongs to another sort order."]})
    return position


def after(*, created_at: datetime, id, sort: str) -> Q:
    """Rows after (created_at, id) in the sort order.

    Written as a range on created_at (an index condition) plus a tie-break on id, rather than
    an OR of the two, so that the database seeks instead of filtering from the start.
    """
    if sort == "oldest":
        return Q(created_at__gte=created_at) & (Q(created_at__gt=created_at) | Q(id__gt=id))
    return Q(created_at__lte=created_at) & (Q(created_at__lt=created_at) | Q(id__lt=id))


class AssetPagination(PageLimitPagination):
    """``?page=&limit=`` as the seeds have it, or ``?cursor=`` (empty for the first page)."""

    def paginate_queryset(self, queryset, request, view=None):
        self.results_key = getattr(view, "results_key", "results")
        self.sort = sort_of(request)
        self.cursor_mode = "cursor" in request.query_params
        if not self.cursor_mode:
            rows = super().paginate_queryset(queryset, request, view)
            self.next_cursor = self._cursor_after(rows) if self.page < self._pages() else None
            return rows
        self.limit = self._int(request, "limit", self.default_limit, 1, self.max_limit)
        token = request.query_params.get("cursor")
        if token:
            created_at, ident = decode_cursor(token, sort=self.sort)
            queryset = queryset.filter(after(created_at=created_at, id=ident, sort=self.sort))
        rows = list(queryset[: self.limit + 1])
        self.has_next = len(rows) > self.limit
        rows = rows[: self.limit]
        self.next_cursor = self._cursor_after(rows) if self.has_next else None
        return rows

    def _pages(self) -> int:
        return -(-self.total // self.limit)

    def _cursor_after(self, rows) -> str | None:
        if not rows:
            return None
        return encode_cursor(created_at=rows[-1].created_at, id=rows[-1].id, sort=self.sort)

    def get_paginated_response(self, data):
        if not self.cursor_mode:
            response = super().get_paginated_response(data)
            response.data["pagination"]["next_cursor"] = self.next_cursor
            return response
        return Response(
            {
                "success": True,
                self.results_key: data,
                "pagination": {"limit": self.limit, "has_next": self.has_next, "next_cursor": self.next_cursor},
            }
        )

    def get_paginated_response_schema(self, schema):
        body = super().get_paginated_response_schema(schema)
        body["properties"]["pagination"]["properties"]["next_cursor"] = {"type": "string", "nullable": True}
        return body
