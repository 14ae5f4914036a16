"""What the teams app hands the apps below it, connected when TeamsConfig.ready() imports this
module: the account page lists the person's teams and makes new ones."""

from accounts.account_page import account_page_part_add
from teams.selectors import team_list_for_user


def account_page_teams_context(*, user) -> dict:
    return {"account_teams": list(team_list_for_user(user=user)), "account_teams_template": "teams/_account_teams.html"}


account_page_part_add(name="teams", context=account_page_teams_context)
