"""The OpenAPI schema says what is served: success envelopes, error envelopes, list shapes.

Views answer ``{"success": true, "<key>": …}`` and every error in the envelope of DESIGN.md §4.
``envelope()`` describes a success answer around a serializer in one line, and ``AutoSchema``
adds the error envelope to every operation, for the statuses it can answer and as ``default``,
so a client generated from ``/api/schema/`` reads errors and answers as they come.
"""

from drf_spectacular.drainage import set_override
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from core.errors import ErrorType


class ErrorSerializer(serializers.Serializer):
    """Every error answer. Some carry more keys (``credits_remaining``, ``message``, …)."""

    success = serializers.BooleanField(help_text="Always false")
    error = serializers.CharField()
    details = serializers.JSONField(allow_null=True, help_text="A message, a list or an object of field errors")
    type = serializers.ChoiceField(choices=[item.value for item in ErrorType])
    code = serializers.IntegerField(help_text="The HTTP status")
    request_id = serializers.CharField()
    timestamp = serializers.CharField(help_text="UTC, e.g. 2026-01-01T00:00:00Z")

    class Meta:
        ref_name = "Error"


_ENVELOPES: dict[str, serializers.Serializer] = {}


def envelope(name: str, key: str | None = None, serializer=None, *, many: bool = False, **fields):
    """``{"success": true, key: serializer}`` (a list of them with ``many``) plus ``fields``,
    as a named component for ``extend_schema(responses=…)``. One name, one component: views
    that answer alike share it."""
    if name in _ENVELOPES:
        return _ENVELOPES[name]
    declared = {"success": serializers.BooleanField(help_text="Always true")}
    if key is not None:
        if isinstance(serializer, type):
            serializer = serializer(many=many)
        declared[key] = serializer
    declared.update(fields)
    serializer = inline_serializer(name, declared)
    # An envelope is one object, also where the view is a list (spectacular would make it an array).
    set_override(serializer, "many", False)
    _ENVELOPES[name] = serializer
    return serializer


def message_envelope(name: str):
    """``{"success": true, "message": "…"}``: answers that only confirm an action."""
    return envelope(name, message=serializers.CharField())


_DESCRIPTIONS = {
    "400": "Invalid input (error envelope)",
    "401": "Authentication required (error envelope)",
    "403": "Permission denied or account disabled (error envelope)",
    "404": "Not found (error envelope)",
    "429": "Rate limit or quota reached, with Retry-After (error envelope)",
    "default": "Any other error, in the error envelope",
}


class AutoSchema(SpectacularAutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        error = self.resolve_serializer(ErrorSerializer, "response").ref
        for code in self._error_codes():
            if code not in responses:
                responses[code] = {
                    "content": {"application/json": {"schema": error}},
                    "description": _DESCRIPTIONS[code],
                }
        return responses

    def _error_codes(self) -> list[str]:
        if self.path.startswith("{$"):
            return []  # a callback: a request Atelier sends, answered by its receiver
        codes = ["400"]
        if not all(isinstance(permission, AllowAny) for permission in self.view.get_permissions()):
            codes += ["401", "403"]
        if "{" in self.path:
            codes.append("404")
        codes += ["429", "default"]
        return codes

    def _get_paginator(self):
        # The paginators name the list after the view (``generations``, ``assets``, …).
        paginator = super()._get_paginator()
        if paginator is not None:
            paginator.results_key = getattr(self.view, "results_key", "results")
        return paginator
