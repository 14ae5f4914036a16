from django.apps import AppConfig


class CreditsConfig(AppConfig):
    name = "credits"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_delete, post_save

        from accounts.account_page import account_page_part_add
        from core.throttling import hourly_quota_lookup_set
        from credits.account_page import account_page_credits_context
        from credits.models import CreditAccount, Plan
        from credits.receivers import credit_account_open_for_new_user
        from credits.selectors import plan_cache, quota_limits

        hourly_quota_lookup_set(lambda user: quota_limits(user=user)["hourly_requests"])
        post_save.connect(
            credit_account_open_for_new_user, sender=get_user_model(), dispatch_uid="credits-account-open-for-new-user"
        )
        account_page_part_add(name="credits", context=account_page_credits_context)
        for model in (CreditAccount, Plan):
            post_save.connect(plan_cache.clear, sender=model, dispatch_uid=f"plan-cache-save-{model.__name__}")
            post_delete.connect(plan_cache.clear, sender=model, dispatch_uid=f"plan-cache-delete-{model.__name__}")
