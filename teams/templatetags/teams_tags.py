from django import template

from teams.acting import acting_membership
from teams.selectors import team_list_for_user

register = template.Library()


@register.simple_tag(takes_context=True)
def spaces(context) -> dict | None:
    """The header bar's space menu: the person's teams and the one the session works in."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if not getattr(user, "is_authenticated", False):
        return None
    teams = list(team_list_for_user(user=user))
    if not teams:
        return {"teams": [], "active": None}
    membership = acting_membership(request)
    return {"teams": teams, "active": membership.team if membership else None}
