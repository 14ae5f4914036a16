from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db.models import OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.html import format_html

from accounts.admin import UserListColumn, user_list_column_add
from core.errors import ApplicationError
from credits.models import CreditAccount, LedgerEntry, Plan
from credits.services import credits_admin_adjust, credits_plan_set
from credits.team_wallet import team_wallet_admin_adjust, team_wallet_plan_set
from teams.admin import team_list_column_add


class ReadOnlyAdmin(admin.ModelAdmin):
    """Credits change only through the ledger services; the admin shows them."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "monthly_credits",
        "daily_generation_quota",
        "hourly_request_quota",
        "training_allowance",
        "max_upload_mb",
        "is_default",
        "is_active",
    ]
    list_editable = ["monthly_credits", "is_active"]
    prepopulated_fields = {"slug": ["name"]}

    def has_delete_permission(self, request, obj=None) -> bool:
        # Accounts point at their plan; deactivate a plan instead.
        return False


class CreditActionFields(forms.Form):
    """How many credits, why, and the plan for "change plan"; the services check the rules."""

    amount = forms.IntegerField(required=False, min_value=0)
    reason = forms.CharField(required=False, max_length=300)
    plan = forms.ModelChoiceField(queryset=Plan.objects.filter(is_active=True), required=False)


class CreditActionForm(ActionForm, CreditActionFields):
    """The action menu with the fields above beside it."""


@admin.register(CreditAccount)
class CreditAccountAdmin(ReadOnlyAdmin):
    list_display = ["user", "team", "plan", "balance", "last_refill_at", "updated_at"]
    list_filter = ["plan", ("team", admin.EmptyFieldListFilter)]
    search_fields = ["user__email", "team__name", "team__id"]
    list_select_related = ["user", "team", "plan"]
    action_form = CreditActionForm
    actions = ["add_credits", "subtract_credits", "set_credits", "change_plan"]

    def has_adjust_permission(self, request) -> bool:
        return (
            request.user.is_active and request.user.is_staff and request.user.has_perm("credits.change_creditaccount")
        )

    def _adjust(self, request, queryset, action: str) -> None:
        form = CreditActionFields(request.POST)
        if not form.is_valid() or form.cleaned_data["amount"] is None:
            self.message_user(request, "Give an amount of credits.", messages.ERROR)
            return
        amount, reason = form.cleaned_data["amount"], form.cleaned_data["reason"]
        done, refused = 0, []
        for account in queryset.select_related("user", "team"):
            try:
                if account.team_id is not None:
                    team_wallet_admin_adjust(
                        team=account.team, action=action, amount=amount, reason=reason, actor=request.user
                    )
                else:
                    credits_admin_adjust(
                        user=account.user, action=action, amount=amount, reason=reason, actor=request.user
                    )
                done += 1
            except ApplicationError as error:
                refused.append(f"{account.user or account.team}: {error.message}")
        if done:
            self.message_user(request, f"Adjusted {done} account(s).", messages.SUCCESS)
        for line in refused:
            self.message_user(request, line, messages.ERROR)

    @admin.action(description="Add credits (amount, reason)", permissions=["adjust"])
    def add_credits(self, request, queryset):
        self._adjust(request, queryset, "add")

    @admin.action(description="Subtract credits (amount, reason)", permissions=["adjust"])
    def subtract_credits(self, request, queryset):
        self._adjust(request, queryset, "subtract")

    @admin.action(description="Set balance (amount, reason)", permissions=["adjust"])
    def set_credits(self, request, queryset):
        self._adjust(request, queryset, "set")

    @admin.action(description="Change plan (plan)", permissions=["adjust"])
    def change_plan(self, request, queryset):
        form = CreditActionFields(request.POST)
        if not form.is_valid() or form.cleaned_data["plan"] is None:
            self.message_user(request, "Choose a plan.", messages.ERROR)
            return
        for account in queryset.select_related("user", "team"):
            if account.team_id is not None:
                team_wallet_plan_set(team=account.team, plan=form.cleaned_data["plan"])
            else:
                credits_plan_set(user=account.user, plan=form.cleaned_data["plan"])
        self.message_user(request, f"Moved {queryset.count()} account(s) to {form.cleaned_data['plan']}.")


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "user",
        "team",
        "member",
        "kind",
        "amount",
        "balance_after",
        "reason",
        "actor",
        "generation",
    ]
    list_filter = ["kind", "created_at", ("team", admin.EmptyFieldListFilter)]
    search_fields = ["user__email", "team__name", "member__email", "reason", "generation__id", "actor__email"]
    list_select_related = ["user", "team", "member", "actor"]
    date_hierarchy = "created_at"


class UserCreditColumns:
    """The user list's credit columns (accounts/admin.py): plan, balance and credits used."""

    @staticmethod
    @admin.display(description="Plan", ordering="credit_account__plan__sort_order")
    def plan(user) -> str:
        account = getattr(user, "credit_account", None)
        return account.plan.name if account and account.plan else "—"

    @staticmethod
    @admin.display(description="Credits", ordering="credit_account__balance")
    def credit_balance(user) -> int | None:
        account = getattr(user, "credit_account", None)
        return account.balance if account else None

    @staticmethod
    @admin.display(description="Credits used", ordering="credits_spent")
    def credits_used(user) -> int:
        return user.credits_spent

    @staticmethod
    def credits_spent_annotate(queryset):
        # A subquery rather than a join: aggregates over joins of several apps' rows would multiply each other.
        spent = (
            LedgerEntry.objects.filter(user=OuterRef("pk"), kind__in=[LedgerEntry.Kind.DEBIT, LedgerEntry.Kind.REFUND])
            .values("user")
            .annotate(total=Sum("amount"))
            .values("total")
        )
        return queryset.annotate(credits_spent=Coalesce(Subquery(spent), 0) * -1)


user_list_column_add(
    name="plan",
    column=UserListColumn(
        value=UserCreditColumns.plan,
        annotate=lambda queryset: queryset.select_related("credit_account__plan"),
        list_filter=("credit_account__plan",),
    ),
)
user_list_column_add(name="credit_balance", column=UserListColumn(value=UserCreditColumns.credit_balance))
user_list_column_add(
    name="credits_used",
    column=UserListColumn(value=UserCreditColumns.credits_used, annotate=UserCreditColumns.credits_spent_annotate),
)


@admin.display(description="Wallet")
def team_wallet_column(team) -> str:
    """The team's balance, linking to its ledger."""
    account = CreditAccount.objects.filter(team=team).first()
    if account is None:
        return "—"
    ledger = reverse("admin:credits_ledgerentry_changelist")
    return format_html('<a href="{}?team__id__exact={}">{} credits</a>', ledger, team.pk, account.balance)


team_list_column_add(name="wallet", column=team_wallet_column)
