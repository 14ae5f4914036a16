from django.db.models import QuerySet, Sum

from credits.models import CreditAccount, LedgerEntry


def credits_balance(*, user) -> int:
    return CreditAccount.objects.filter(user=user).values_list("balance", flat=True).first() or 0


def credits_summary(*, user) -> dict:
    account = CreditAccount.objects.filter(user=user).first()
    remaining = account.balance if account else 0
    granted = (
        LedgerEntry.objects.filter(user=user, amount__gt=0)
        .exclude(kind=LedgerEntry.Kind.REFUND)
        .aggregate(total=Sum("amount"))["total"]
        or 0
    )
    return {
        "remaining": remaining,
        "total": granted,
        "used": max(granted - remaining, 0),
        "last_refill": account.last_refill_at if account else None,
    }


def ledger_list(*, user) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(user=user)
