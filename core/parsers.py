"""Request body parsers of the API (REST_FRAMEWORK's DEFAULT_PARSER_CLASSES)."""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class JSONObjectParser(JSONParser):
    """JSON bodies must be objects: every endpoint takes named fields.

    ``null``, ``[1]`` or ``"text"`` would otherwise reach views that read ``request.data`` as a
    mapping; they are refused here once for all of them, as a 400 in the envelope.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        if not isinstance(data, dict):
            raise ParseError(f"The JSON body must be an object, not {_json_kind(data)}.")
        return data


def _json_kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    return "a number"
