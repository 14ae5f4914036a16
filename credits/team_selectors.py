"""Reads of team wallets: the balance, what each member spent this month and started today."""

from datetime import datetime, timedelta

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from credits.models import CreditAccount, LedgerEntry
from credits.periods import next_refill_at, period_next, period_of, period_start
from credits.selectors import SPENDING_KINDS, next_utc_midnight

Kind = LedgerEntry.Kind


def team_wallet_balance(*, team_id) -> int:
    return CreditAccount.objects.filter(team_id=team_id).values_list("balance", flat=True).first() or 0


def team_member_spent_between(*, team_id, member, start: datetime, end: datetime) -> int:
    """Credits ``member`` spent from the team's wallet in [start, end): debits less refunds."""
    total = LedgerEntry.objects.filter(
        team_id=team_id, member=member, kind__in=SPENDING_KINDS, created_at__gte=start, created_at__lt=end
    ).aggregate(total=Coalesce(Sum("amount"), 0))["total"]
    return -total


def team_member_generations_between(*, team_id, member, start: datetime, end: datetime) -> int:
    """Generations ``member`` started as the team in [start, end): each has exactly one debit."""
    return LedgerEntry.objects.filter(
        team_id=team_id,
        member=member,
        kind=Kind.DEBIT,
        generation__isnull=False,
        created_at__gte=start,
        created_at__lt=end,
    ).count()


def team_wallet_summary(*, team) -> dict:
    """The wallet as ``GET /api/teams/{id}/credits`` shows it."""
    account = CreditAccount.objects.filter(team=team).select_related("plan").first()
    now = timezone.now()
    period = period_of(now)
    start, end = period_start(period), period_start(period_next(period))
    spent = -(
        LedgerEntry.objects.filter(
            team=team, kind__in=SPENDING_KINDS, created_at__gte=start, created_at__lt=end
        ).aggregate(total=Coalesce(Sum("amount"), 0))["total"]
    )
    plan = account.plan if account else None
    return {
        "remaining": account.balance if account else 0,
        "total": plan.monthly_credits if plan else 0,
        "used": spent,
        "last_refill": account.last_refill_at if account else None,
        "next_refill": next_refill_at(now) if plan else None,
        "plan": plan.name if plan else None,
    }


def team_member_usage(*, team) -> dict[int, dict]:
    """Per member (by user pk): credits spent this month and generations started today."""
    now = timezone.now()
    period = period_of(now)
    start, end = period_start(period), period_start(period_next(period))
    midnight = next_utc_midnight(now)
    rows = (
        LedgerEntry.objects.filter(team=team, member__isnull=False, created_at__gte=start, created_at__lt=end)
        .values("member")
        .annotate(
            spent=Coalesce(Sum("amount", filter=Q(kind__in=SPENDING_KINDS)), 0),
            today=Count(
                "id",
                filter=Q(kind=Kind.DEBIT, generation__isnull=False, created_at__gte=midnight - timedelta(days=1)),
            ),
        )
    )
    return {row["member"]: {"credits_this_month": -row["spent"], "generations_today": row["today"]} for row in rows}


def team_usage_by_day(*, team, days: int = 30) -> list[dict]:
    """Credits spent from the wallet per UTC day and member over the last ``days`` days."""
    since = next_utc_midnight(timezone.now()) - timedelta(days=days)
    rows = (
        LedgerEntry.objects.filter(team=team, kind__in=SPENDING_KINDS, created_at__gte=since, member__isnull=False)
        .annotate(day=TruncDate("created_at"))
        .values("day", "member__email")
        .annotate(spent=Coalesce(Sum("amount"), 0))
        .order_by("day", "member__email")
    )
    return [{"day": row["day"], "member": row["member__email"], "credits": -row["spent"]} for row in rows]
