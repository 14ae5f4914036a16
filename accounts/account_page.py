"""The parts of the account page that apps above accounts own.

The page itself (profile and API keys) is this app's; the credits app adds the plan, balance,
ledger, limits and usage in ``CreditsConfig.ready()``, the way the admin finds each app's
``admin.py``, so that this app imports none of them.
"""

from collections.abc import Callable

# name -> the part's template context for a user.
_parts: dict[str, Callable[..., dict]] = {}


def account_page_part_add(*, name: str, context: Callable[..., dict]) -> None:
    """Adds (or replaces) a part; ``context(user=...)`` returns the keys its template reads."""
    _parts[name] = context


def account_page_parts_context(*, user) -> dict:
    """Every part's context for ``user``, merged in the order the parts were added."""
    context: dict = {}
    for part in _parts.values():
        context.update(part(user=user))
    return context
