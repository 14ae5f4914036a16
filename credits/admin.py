from django.contrib import admin

from credits.models import CreditAccount, LedgerEntry


class ReadOnlyAdmin(admin.ModelAdmin):
    """Credits change only through the ledger services; the admin shows them."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CreditAccount)
class CreditAccountAdmin(ReadOnlyAdmin):
    list_display = ["user", "balance", "last_refill_at", "updated_at"]
    search_fields = ["user__email"]
    list_select_related = ["user"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "kind", "amount", "balance_after", "reason", "generation"]
    list_filter = ["kind", "created_at"]
    search_fields = ["user__email", "reason", "generation__id"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
