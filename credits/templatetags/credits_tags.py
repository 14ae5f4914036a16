from django import template

from credits.selectors import credits_balance

register = template.Library()


@register.simple_tag
def balance_of(user) -> int | None:
    """The signed-in user's balance for the page header; None for visitors."""
    if not getattr(user, "is_authenticated", False):
        return None
    return credits_balance(user=user)
