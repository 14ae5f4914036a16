from django import template

from credits.selectors import credits_balance
from credits.team_selectors import team_wallet_balance

register = template.Library()


@register.simple_tag
def balance_of(user) -> int | None:
    """The signed-in user's balance for the page header; None for visitors."""
    if not getattr(user, "is_authenticated", False):
        return None
    return credits_balance(user=user)


@register.simple_tag
def balance_in(user, team) -> int | None:
    """The header's balance: the team's wallet when the page works in a team, else the user's."""
    if team is None:
        return balance_of(user)
    return team_wallet_balance(team_id=team.pk)
