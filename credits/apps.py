from django.apps import AppConfig


class CreditsConfig(AppConfig):
    name = "credits"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from credits.models import CreditAccount, Plan
        from credits.selectors import plan_cache

        for model in (CreditAccount, Plan):
            post_save.connect(plan_cache.clear, sender=model, dispatch_uid=f"plan-cache-save-{model.__name__}")
            post_delete.connect(plan_cache.clear, sender=model, dispatch_uid=f"plan-cache-delete-{model.__name__}")
