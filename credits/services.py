"""Every move of credits. Each is one atomic block: a conditional UPDATE of the balance and a
ledger entry, so the balance never goes negative and the ledger always sums to it."""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from credits.models import CreditAccount, LedgerEntry
from ops.errors import InsufficientCredits

Kind = LedgerEntry.Kind


def credits_account_open(*, user) -> CreditAccount:
    """Opens the account of a new user with the starting grant (once)."""
    with transaction.atomic():
        account, created = CreditAccount.objects.get_or_create(user=user)
        if created and settings.ATELIER_STARTING_CREDITS > 0:
            _add(user=user, amount=settings.ATELIER_STARTING_CREDITS, kind=Kind.GRANT, reason="Welcome grant")
            account.refresh_from_db()
        return account


def _add(*, user, amount: int, kind: str, reason: str, actor=None, generation=None) -> LedgerEntry:
    CreditAccount.objects.filter(user=user).update(balance=F("balance") + amount)
    balance = CreditAccount.objects.values_list("balance", flat=True).get(user=user)
    return LedgerEntry.objects.create(
        user=user, kind=kind, amount=amount, balance_after=balance, reason=reason, actor=actor, generation=generation
    )


def credits_grant(*, user, amount: int, reason: str, kind: str = Kind.GRANT, actor=None) -> LedgerEntry:
    if amount <= 0:
        raise ValueError("A grant must be positive")
    with transaction.atomic():
        return _add(user=user, amount=amount, kind=kind, reason=reason, actor=actor)


def credits_debit(*, user, amount: int, reason: str, generation=None, actor=None) -> LedgerEntry:
    """Takes ``amount`` credits or raises InsufficientCredits without changing anything.

    The conditional UPDATE is the lock: of two concurrent debits for the last credit, the
    database lets exactly one match ``balance >= amount``.
    """
    if amount < 0:
        raise ValueError("A debit amount must not be negative")
    with transaction.atomic():
        updated = CreditAccount.objects.filter(user=user, balance__gte=amount).update(balance=F("balance") - amount)
        if not updated:
            remaining = CreditAccount.objects.filter(user=user).values_list("balance", flat=True).first() or 0
            raise InsufficientCredits(
                details=f"You need {amount} credits but only have {remaining} remaining",
                credits_remaining=remaining,
                credits_required=amount,
            )
        balance = CreditAccount.objects.values_list("balance", flat=True).get(user=user)
        return LedgerEntry.objects.create(
            user=user,
            kind=Kind.DEBIT,
            amount=-amount,
            balance_after=balance,
            reason=reason,
            actor=actor,
            generation=generation,
        )


def credits_refund_generation(*, generation, reason: str) -> LedgerEntry | None:
    """Gives back what the generation was charged, exactly once (a unique constraint backs it)."""
    debit = LedgerEntry.objects.filter(generation=generation, kind=Kind.DEBIT).first()
    if debit is None or debit.amount == 0:
        return None
    try:
        with transaction.atomic():
            return _add(
                user=generation.user,
                amount=-debit.amount,
                kind=Kind.REFUND,
                reason=reason,
                generation=generation,
            )
    except IntegrityError:
        return None
