"""What the credits app does when rows of the apps below it change, and what it hands them; all of
it connected when CreditsConfig.ready() imports this module.

- a new user gets a credit account (the user model's ``post_save``);
- the rate limits learn each user's hourly request quota from their plan (core.throttling);
- the account page shows the credits part (accounts.account_page);
- an edit of a plan or an account clears the process cache of plans;
- a new team gets its wallet, and the team page shows the wallet and each member's spending.
"""

from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save

from accounts.account_page import account_page_part_add
from core.throttling import hourly_quota_lookup_set
from credits.account_page import account_page_credits_context
from credits.models import CreditAccount, Plan
from credits.selectors import plan_cache, quota_limits
from credits.services import credits_account_open
from credits.team_page import team_page_wallet_context
from credits.team_wallet import team_wallet_open
from teams.signals import team_created
from teams.team_page import team_page_part_add


def credit_account_open_for_new_user(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    """Every new user gets a credit account with the starting grant, however they were created
    (sign-up, Google, the admin, createsuperuser), in the transaction that saves the user."""
    if created and not raw:
        credits_account_open(user=instance)


def team_wallet_open_for_new_team(sender, team, **kwargs) -> None:
    team_wallet_open(team=team)


def hourly_request_quota(user) -> int:
    return quota_limits(user=user)["hourly_requests"]


post_save.connect(
    credit_account_open_for_new_user, sender=get_user_model(), dispatch_uid="credits-account-open-for-new-user"
)
hourly_quota_lookup_set(hourly_request_quota)
account_page_part_add(name="credits", context=account_page_credits_context)
for model in (CreditAccount, Plan):
    post_save.connect(plan_cache.clear, sender=model, dispatch_uid=f"plan-cache-save-{model.__name__}")
    post_delete.connect(plan_cache.clear, sender=model, dispatch_uid=f"plan-cache-delete-{model.__name__}")
team_created.connect(team_wallet_open_for_new_team, dispatch_uid="credits-team-wallet-open")
team_page_part_add(name="wallet", context=team_page_wallet_context)
