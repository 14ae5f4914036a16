from django.conf import settings
from django.db import models
from django.db.models import Q


class Plan(models.Model):
    """What a subscription gives: the monthly credits, the quotas and the upload limits."""

    name = models.CharField(max_length=50, unique=True)
    slug = models.SlugField(max_length=50, unique=True)
    monthly_credits = models.PositiveIntegerField(help_text="Credits granted (or reset to) every month.")
    daily_generation_quota = models.PositiveIntegerField(
        null=True, blank=True, help_text="Generations per UTC day; blank = ATELIER_DEFAULT_DAILY_GENERATIONS."
    )
    hourly_request_quota = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="API requests per hour (docs/limits.md says which count); blank = ATELIER_DEFAULT_HOURLY_REQUESTS.",
    )
    training_allowance = models.PositiveIntegerField(default=0, help_text="LoRA trainings per month.")
    max_upload_mb = models.PositiveIntegerField(default=10, help_text="Largest upload (training zip) in MB.")
    is_default = models.BooleanField(default=False, help_text="The plan of new users; exactly one plan has it.")
    is_active = models.BooleanField(default=True)
    sort_order = models.PositiveIntegerField(default=100)

    class Meta:
        ordering = ["sort_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="plan_one_default"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024


class CreditAccount(models.Model):
    """A user's balance, or a team's wallet (exactly one of ``user`` and ``team``). It only ever
    changes together with a LedgerEntry (credits.services, credits.team_wallet)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="credit_account"
    )
    team = models.OneToOneField(
        "teams.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="credit_account"
    )
    plan = models.ForeignKey(Plan, null=True, blank=True, on_delete=models.PROTECT, related_name="accounts")
    balance = models.IntegerField(default=0)
    last_refill_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="credit_balance_not_negative"),
            models.CheckConstraint(
                condition=Q(user__isnull=False, team__isnull=True) | Q(user__isnull=True, team__isnull=False),
                name="credit_account_of_a_user_or_a_team",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user or self.team} — {self.balance} credits"


class LedgerEntry(models.Model):
    """One append-only move of credits. Corrections are new entries, never edits.

    A personal entry names its ``user``; an entry of a team's wallet names the ``team`` instead
    and the ``member`` who spent (or was refunded), so a person's own ledger never shows them.
    """

    class Kind(models.TextChoices):
        GRANT = "grant", "Grant"
        MONTHLY_REFILL = "monthly_refill", "Monthly refill"
        DEBIT = "debit", "Debit"
        REFUND = "refund", "Refund"
        ADMIN_ADJUSTMENT = "admin_adjustment", "Admin adjustment"
        EXPIRY = "expiry", "Expiry"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="ledger_entries"
    )
    team = models.ForeignKey(
        "teams.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="ledger_entries"
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="On a team's wallet: the member who spent (or was refunded).",
    )
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
    period = models.DateField(
        null=True, blank=True, help_text="For monthly refills and their expiries: the first day of the month."
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
            # A month's refill happens once per user however often the task runs.
            models.UniqueConstraint(
                fields=["user", "period"],
                condition=Q(kind="monthly_refill"),
                name="ledger_one_refill_per_user_period",
            ),
            models.UniqueConstraint(
                fields=["team", "period"],
                condition=Q(kind="monthly_refill"),
                name="ledger_one_refill_per_team_period",
            ),
            models.CheckConstraint(
                condition=~Q(kind="monthly_refill") | Q(period__isnull=False), name="ledger_refill_has_period"
            ),
            models.CheckConstraint(
                condition=Q(user__isnull=False, team__isnull=True) | Q(user__isnull=True, team__isnull=False),
                name="ledger_entry_of_a_user_or_a_team",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="ledger_user_created"),
            models.Index(fields=["user", "kind", "created_at"], name="ledger_user_kind_created"),
            models.Index(fields=["team", "-created_at"], name="ledger_team_created"),
            models.Index(fields=["team", "member", "kind", "created_at"], name="ledger_team_member_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount:+d} → {self.balance_after}"


class TeamMemberSpend(models.Model):
    """What a member spent from a team's wallet in one UTC month: debits less refunds, moved in
    the transaction of each of them (credits.team_spend), so that a monthly cap is checked and
    kept by one conditional UPDATE of this row. It always equals the ledger's sum of the member's
    debits and refunds that month."""

    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    period = models.DateField(help_text="The first day of the month.")
    credits = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user", "period"], name="team_member_spend_once_a_month")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.team}, {self.period:%B %Y}: {self.credits}"
