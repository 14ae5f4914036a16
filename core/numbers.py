"""Whole numbers from the outside world (headers, paths, query strings), parsed one way.

``str.isdigit()`` accepts superscripts ("²") and other Unicode digits that ``int()`` refuses,
and ``int()`` accepts what no client means ("٣", " 7 ", "1_000") and numbers of any length,
which overflow a float or a database column. Everything that reads a number from a request
uses ``parse_int``: ASCII digits only, a bounded length, an optional range.
"""

import re

_DIGITS = re.compile(r"[0-9]{1,18}")
_SIGNED_DIGITS = re.compile(r"-?[0-9]{1,18}")


def parse_int(
    value: object, *, signed: bool = False, min_value: int | None = None, max_value: int | None = None
) -> int | None:
    """The number ``value`` spells in ASCII digits (at most 18, so it fits a 64-bit column), else None."""
    if isinstance(value, bytes):
        try:
            value = value.decode("ascii")
        except UnicodeDecodeError:
            return None
    if not isinstance(value, str) or not (_SIGNED_DIGITS if signed else _DIGITS).fullmatch(value):
        return None
    number = int(value)
    if (min_value is not None and number < min_value) or (max_value is not None and number > max_value):
        return None
    return number
