from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import models
from django.db.models import Count, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce

from accounts.models import APIKey, User
from accounts.services import api_key_revoke
from credits.models import LedgerEntry
from gallery.models import Asset


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = [
        "email",
        "full_name",
        "plan",
        "credit_balance",
        "credits_used",
        "image_count",
        "last_login",
        "is_active",
        "is_staff",
        "date_joined",
    ]
    list_filter = ["is_active", "is_staff", "is_superuser", "credit_account__plan", "date_joined"]
    search_fields = ["email", "username", "full_name"]
    ordering = ["-date_joined"]
    # An avatar address typed without a scheme is read as https (Django 6's default).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = [
        *DjangoUserAdmin.fieldsets,
        ("Profile", {"fields": ["full_name", "avatar_url", "preferences"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "username", "password1", "password2"]})]

    def get_queryset(self, request):
        # Subqueries rather than joins: two aggregates over joins would multiply each other.
        images = Asset.objects.filter(owner=OuterRef("pk")).values("owner").annotate(n=Count("pk")).values("n")
        spent = (
            LedgerEntry.objects.filter(user=OuterRef("pk"), kind__in=["debit", "refund"])
            .values("user")
            .annotate(total=Sum("amount"))
            .values("total")
        )
        return (
            super()
            .get_queryset(request)
            .select_related("credit_account__plan")
            .annotate(
                image_total=Coalesce(Subquery(images), 0),
                credits_spent=Coalesce(Subquery(spent), 0) * -1,
            )
        )

    @admin.display(description="Images", ordering="image_total")
    def image_count(self, user: User) -> int:
        return user.image_total

    @admin.display(description="Credits used", ordering="credits_spent")
    def credits_used(self, user: User) -> int:
        return user.credits_spent

    @admin.display(description="Plan", ordering="credit_account__plan__sort_order")
    def plan(self, user: User) -> str:
        account = getattr(user, "credit_account", None)
        return account.plan.name if account and account.plan else "—"

    @admin.display(description="Credits", ordering="credit_account__balance")
    def credit_balance(self, user: User) -> int | None:
        account = getattr(user, "credit_account", None)
        return account.balance if account else None


@admin.register(APIKey)
class APIKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "user", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["created_at", "last_used_at"]
    search_fields = ["name", "prefix", "user__email"]
    readonly_fields = ["prefix", "key_hash", "created_at", "last_used_at", "revoked_at"]
    list_select_related = ["user"]
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        # A key's secret is shown once to its owner; keys are made through the API or the account page.
        return False

    @admin.action(description="Revoke selected keys")
    def revoke(self, request, queryset):
        for api_key in queryset:
            api_key_revoke(api_key=api_key)
