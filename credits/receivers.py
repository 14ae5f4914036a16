"""What the credits app does when rows of the apps below it change; CreditsConfig.ready() connects
these receivers."""

from credits.services import credits_account_open


def credit_account_open_for_new_user(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    """Every new user gets a credit account with the starting grant, however they were created
    (sign-up, Google, the admin, createsuperuser), in the transaction that saves the user."""
    if created and not raw:
        credits_account_open(user=instance)
