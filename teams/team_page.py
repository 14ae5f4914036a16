"""The parts of the team page that apps above teams own (credits: the wallet and the usage per
member), added from their ``ready()`` as the account page's parts are (accounts/account_page.py)."""

from collections.abc import Callable

_parts: dict[str, Callable[..., dict]] = {}


def team_page_part_add(*, name: str, context: Callable[..., dict]) -> None:
    """Adds (or replaces) a part; ``context(membership=...)`` returns the keys its template reads."""
    _parts[name] = context


def team_page_parts_context(*, membership) -> dict:
    context: dict = {}
    for part in _parts.values():
        context.update(part(membership=membership))
    return context
