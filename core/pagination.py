import math

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

from core.numbers import parse_int


class PageLimitPagination(BasePagination):
    """``?page=&limit=`` (1–100), answered as ``pagination`` with the seeds' keys."""

    default_limit = 20
    max_limit = 100
    # Deeper pages are empty in practice, and a larger offset would overflow the database's integers.
    max_page = 1_000_000

    def _int(self, request, name: str, default: int, low: int, high: int | None) -> int:
        raw = request.query_params.get(name)
        if raw in (None, ""):
            return default
        value = parse_int(raw)
        if value is None:
            raise ValidationError({name: [f"{name} must be a whole number."]})
        if value < low or (high is not None and value > high):
            bound = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise ValidationError({name: [f"{name} must be {bound}."]})
        return value

    def paginate_queryset(self, queryset, request, view=None):
        self.limit = self._int(request, "limit", self.default_limit, 1, self.max_limit)
        self.page = self._int(request, "page", 1, 1, self.max_page)
        self.total = queryset.count()
        self.results_key = getattr(view, "results_key", "results")
        offset = (self.page - 1) * self.limit
        return list(queryset[offset : offset + self.limit])

    def get_paginated_response(self, data):
        pages = math.ceil(self.total / self.limit) if self.total else 0
        return Response(
            {
                "success": True,
                self.results_key: data,
                "pagination": {
                    "page": self.page,
                    "limit": self.limit,
                    "total": self.total,
                    "pages": pages,
                    "has_next": self.page < pages,
                    "has_prev": self.page > 1,
                },
            }
        )

    def get_schema_operation_parameters(self, view):
        def integer(name: str, low: int, high: int, default: int, description: str) -> dict:
            bounds = {"minimum": low, "maximum": high, "default": default}
            return {
                "name": name,
                "in": "query",
                "required": False,
                "description": description,
                "schema": {"type": "integer", **bounds},
            }

        return [
            integer("page", 1, self.max_page, 1, "Page number, from 1."),
            integer("limit", 1, self.max_limit, self.default_limit, "Items per page."),
        ]

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "properties": {
                "success": {"type": "boolean"},
                getattr(self, "results_key", "results"): schema,
                "pagination": {
                    "type": "object",
                    "properties": {key: {"type": "integer"} for key in ("page", "limit", "total", "pages")}
                    | {"has_next": {"type": "boolean"}, "has_prev": {"type": "boolean"}},
                },
            },
        }
