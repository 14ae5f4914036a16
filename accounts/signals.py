from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.models import User


@receiver(post_save, sender=User, dispatch_uid="accounts.open_credit_account")
def open_credit_account(sender, instance: User, created: bool, raw: bool = False, **kwargs) -> None:
    """Every new user gets a credit account, however they were created (sign-up, Google, admin)."""
    if created and not raw:
        from credits.services import credits_account_open

        credits_account_open(user=instance)
