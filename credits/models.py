from django.conf import settings
from django.db import models
from django.db.models import Q


class CreditAccount(models.Model):
    """A user's balance. It only ever changes together with a LedgerEntry (credits.services)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="credit_account")
    balance = models.IntegerField(default=0)
    last_refill_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(balance__gte=0), name="credit_balance_not_negative")]

    def __str__(self) -> str:
        return f"{self.user} — {self.balance} credits"


class LedgerEntry(models.Model):
    """One append-only move of credits. Corrections are new entries, never edits."""

    class Kind(models.TextChoices):
        GRANT = "grant", "Grant"
        MONTHLY_REFILL = "monthly_refill", "Monthly refill"
        DEBIT = "debit", "Debit"
        REFUND = "refund", "Refund"
        ADMIN_ADJUSTMENT = "admin_adjustment", "Admin adjustment"
        EXPIRY = "expiry", "Expiry"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ledger_entries")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    amount = models.IntegerField(help_text="Positive adds credits, negative takes them.")
    balance_after = models.IntegerField()
    reason = models.CharField(max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    generation = models.ForeignKey(
        "generation.Generation", null=True, blank=True, on_delete=models.SET_NULL, related_name="ledger_entries"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "ledger entries"
        constraints = [
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="ledger_balance_after_not_negative"),
            # A generation is charged once and refunded at most once, whatever races happen.
            models.UniqueConstraint(
                fields=["generation", "kind"],
                condition=Q(kind__in=["debit", "refund"]) & Q(generation__isnull=False),
                name="ledger_one_debit_and_refund_per_generation",
            ),
        ]
        indexes = [models.Index(fields=["user", "-created_at"], name="ledger_user_created")]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount:+d} → {self.balance_after}"
