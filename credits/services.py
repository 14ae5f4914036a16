"""Every move of credits. Each is one atomic block: a conditional UPDATE of the balance and a
ledger entry, so the balance never goes negative and the ledger always sums to it."""

import logging
from datetime import date, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from core.errors import InsufficientCredits, ValidationFailed
from credits.models import CreditAccount, LedgerEntry, Plan
from credits.periods import next_refill_at, period_of, period_start
from credits.seed_plans import PLANS
from credits.selectors import plan_cache, plan_default_read, plan_for_user
from credits.signals import credits_low
from credits.team_spend import team_member_spend_refund

logger = logging.getLogger(__name__)

Kind = LedgerEntry.Kind

REFILL_RESET = "reset"
REFILL_ADD = "add"


def plan_default() -> Plan:
    """The plan of new users, saved: recreated from the seed if someone emptied the table."""
    plan = plan_default_read()
    if plan.pk is None:
        row = next(row for row in PLANS if row["is_default"])
        plan, _ = Plan.objects.get_or_create(slug=row["slug"], defaults=row)
    return plan


def credits_account_open(*, user) -> CreditAccount:
    """Opens the account of a new user on the default plan, with the starting grant (once)."""
    with transaction.atomic():
        account, created = CreditAccount.objects.get_or_create(user=user, defaults={"plan": plan_default()})
        if created and settings.ATELIER_STARTING_CREDITS > 0:
            ledger_move(user=user, amount=settings.ATELIER_STARTING_CREDITS, kind=Kind.GRANT, reason="Welcome grant")
            account.refresh_from_db()
        return account


def _update_balance(*, user_id: int | None, amount: int, team_id=None) -> int | None:
    """Adds ``amount`` (negative takes) unless the balance would drop below zero.

    A conditional UPDATE, so concurrent moves serialise on the row and each sees the other's
    result; the new balance is read back under the row lock the UPDATE took (call it inside a
    transaction). None when the balance does not cover it (or there is no account). ``team_id``:
    the team's wallet instead of the user's account.
    """
    account = CreditAccount.objects.filter(**({"team_id": team_id} if team_id is not None else {"user_id": user_id}))
    if not account.filter(balance__gte=-amount).update(balance=F("balance") + amount, updated_at=timezone.now()):
        return None
    return account.values_list("balance", flat=True).get()


def credits_announce_if_low(*, user_id: int, before: int, after: int) -> None:
    """Sends ``credits_low`` (on commit) when a move took the balance below the threshold."""
    threshold = settings.ATELIER_CREDITS_LOW_THRESHOLD
    if threshold <= 0 or not (after < threshold <= before):
        return

    def send():
        logger.info("credits.low: user %s has %s credits left (threshold %s)", user_id, after, threshold)
        credits_low.send(sender=CreditAccount, user_id=user_id, credits_remaining=after, threshold=threshold)

    transaction.on_commit(send)


def ledger_move(
    *,
    user,
    amount: int,
    kind: str,
    reason: str,
    actor=None,
    generation=None,
    period: date | None = None,
    team_id=None,
    member=None,
) -> LedgerEntry:
    """Moves ``amount`` and writes its entry; InsufficientCredits when the balance does not cover it.

    Call inside a transaction: the entry and the balance change commit or roll back together.
    ``team_id`` (with ``user`` None): the move is on the team's wallet, ``member`` the person.
    """
    entry = ledger_move_if_covered(
        user=user,
        amount=amount,
        kind=kind,
        reason=reason,
        actor=actor,
        generation=generation,
        period=period,
        team_id=team_id,
        member=member,
    )
    if entry is None:
        if team_id is not None:
            raise InsufficientCredits(details="The team's wallet does not cover this move.", wallet="team")
        _refuse(user=user, amount=amount)
    return entry


def credits_refuse(*, user, amount: int):
    """Raises InsufficientCredits for a debit of ``amount`` the balance does not cover."""
    _refuse(user=user, amount=-amount)


def _credits(amount: int) -> str:
    return f"{amount} credit" if amount == 1 else f"{amount} credits"


def _refuse(*, user, amount: int):
    remaining = CreditAccount.objects.filter(user=user).values_list("balance", flat=True).first() or 0
    plan = plan_for_user(user=user)
    refill_at = next_refill_at()
    when = f"{refill_at:%B} {refill_at.day}, {refill_at.year} (UTC)"
    if plan.monthly_credits <= 0:
        refill = f"Your {plan.name} plan has no monthly refill."
    elif settings.ATELIER_REFILL_POLICY == REFILL_RESET:
        refill = f"Your {plan.name} plan refills your balance to {_credits(plan.monthly_credits)} on {when}."
    else:
        refill = f"Your {plan.name} plan adds {_credits(plan.monthly_credits)} on {when}."
    raise InsufficientCredits(
        details=(
            f"You need {_credits(-amount)} but have only {remaining} left. {refill} "
            "For more before then, ask an operator to add credits or move you to a larger plan."
        ),
        credits_remaining=remaining,
        credits_required=-amount,
        next_refill=refill_at.isoformat().replace("+00:00", "Z"),
        plan=plan.name,
    )


def ledger_move_if_covered(
    *, user, amount: int, kind: str, reason: str, actor, generation, period, team_id=None, member=None
) -> LedgerEntry | None:
    """The move and its entry, or None (and nothing changed) when the balance does not cover it."""
    balance = _update_balance(user_id=user.pk if user is not None else None, amount=amount, team_id=team_id)
    if balance is None:
        return None
    entry = LedgerEntry.objects.create(
        user=user,
        team_id=team_id,
        member=member,
        kind=kind,
        amount=amount,
        balance_after=balance,
        reason=reason,
        actor=actor,
        generation=generation,
        period=period,
    )
    if user is not None:
        credits_announce_if_low(user_id=user.pk, before=balance - amount, after=balance)
    return entry


def credits_grant(*, user, amount: int, reason: str, kind: str = Kind.GRANT, actor=None) -> LedgerEntry:
    if amount <= 0:
        raise ValueError("A grant must be positive")
    with transaction.atomic():
        return ledger_move(user=user, amount=amount, kind=kind, reason=reason, actor=actor)


def credits_debit(*, user, amount: int, reason: str, generation=None, actor=None) -> LedgerEntry:
    """Takes ``amount`` credits or raises InsufficientCredits without changing anything.

    The conditional UPDATE is the lock: of two concurrent debits for the last credit, the
    database lets exactly one match ``balance >= amount``.
    """
    if amount < 0:
        raise ValueError("A debit amount must not be negative")
    # No savepoint: a refused debit returns None having changed nothing (the refusal is raised
    # outside the block, so a caller's transaction stays usable), and any other error aborts
    # the caller's transaction anyway.
    with transaction.atomic(savepoint=False):
        entry = ledger_move_if_covered(
            user=user, amount=-amount, kind=Kind.DEBIT, reason=reason, actor=actor, generation=generation, period=None
        )
    if entry is None:
        _refuse(user=user, amount=-amount)
    return entry


def credits_refund_generation(*, generation, reason: str, actor=None) -> LedgerEntry | None:
    """Gives back what the generation was charged, exactly once (a unique constraint backs it).

    ``actor``: the staff user who asked for it, named on the entry (None when the system did).
    """
    debit = LedgerEntry.objects.filter(generation=generation, kind=Kind.DEBIT).first()
    if debit is None or debit.amount == 0:
        return None
    try:
        with transaction.atomic():
            if debit.team_id is not None:
                team_member_spend_refund(
                    team_id=debit.team_id,
                    member_id=debit.member_id,
                    period=period_of(timezone.now()),
                    amount=debit.amount * -1,
                )
            return ledger_move(
                # A team's generation goes back to the wallet it was charged to, in its member's name.
                user=generation.user if debit.team_id is None else None,
                team_id=debit.team_id,
                member=debit.member,
                amount=-debit.amount,
                kind=Kind.REFUND,
                reason=reason,
                actor=actor,
                generation=generation,
            )
    except IntegrityError:
        return None


ADJUST_ACTIONS = ("add", "subtract", "set")


def admin_adjust_checked(*, action: str, amount: int, reason: str, actions: tuple[str, ...]) -> str:
    """The checks of a staff correction of any wallet (400, nothing changes); its reason, trimmed."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("A reason is required", details={"reason": ["Say why the credits change."]})
    if action not in actions:
        raise ValidationFailed(details={"action": [f"Use one of: {', '.join(actions)}."]})
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise ValidationFailed(details={"amount": ["Must be a whole number of credits, 0 or more."]})
    if action != "set" and amount == 0:
        raise ValidationFailed(details={"amount": ["Must be at least 1."]})
    return reason


def admin_adjust_delta(*, action: str, amount: int, old: int) -> int:
    """What a staff correction moves: ``deduct`` is the team wallets' word for ``subtract``."""
    return {"add": amount, "subtract": -amount, "deduct": -amount, "set": amount - old}[action]


def credits_admin_adjust(*, user, action: str, amount: int, reason: str, actor) -> tuple[int, int, LedgerEntry]:
    """A staff correction: add, subtract or set the balance, as a new ledger entry.

    Returns the old balance, the new one and the entry. A reason is required and the balance
    never goes below zero (400, nothing changes).
    """
    reason = admin_adjust_checked(action=action, amount=amount, reason=reason, actions=ADJUST_ACTIONS)
    with transaction.atomic():
        # The lock makes "set" exact against concurrent debits, and old/new true for all three.
        account = CreditAccount.objects.select_for_update().filter(user=user).first()
        if account is None:
            account = credits_account_open(user=user)
            account = CreditAccount.objects.select_for_update().get(pk=account.pk)
        old = account.balance
        delta = admin_adjust_delta(action=action, amount=amount, old=old)
        if old + delta < 0:
            raise ValidationFailed(
                "Cannot subtract below zero",
                details={"amount": [f"The user has only {old} credits."]},
                credits_remaining=old,
            )
        entry = ledger_move(user=user, amount=delta, kind=Kind.ADMIN_ADJUSTMENT, reason=reason[:300], actor=actor)
    return old, entry.balance_after, entry


def credits_plan_set(*, user, plan: Plan) -> CreditAccount:
    """Moves the user to another plan; the new allowance applies from the next refill."""
    account = credits_account_open(user=user)
    CreditAccount.objects.filter(pk=account.pk).update(plan=plan, updated_at=timezone.now())
    plan_cache.clear()
    account.refresh_from_db()
    return account


def credits_refill_account(*, account: CreditAccount, period: date, now: datetime | None = None) -> bool:
    """Gives the account its plan's monthly credits for ``period``, once; False if already done.

    Policy ``reset`` (the default, as seed 004 does) first expires what is left, then grants
    the allowance, so the balance starts the month at the allowance; ``add`` adds it on top.
    """
    now = now or timezone.now()
    try:
        with transaction.atomic():
            account = (
                CreditAccount.objects.select_for_update(of=("self",)).select_related("user", "plan").get(pk=account.pk)
            )
            user, team_id = account.user, account.team_id
            # A team's wallet refills only on a plan staff gave it; a person's on the default plan too.
            if team_id is not None and account.plan is None:
                return False
            owner = {"team_id": team_id} if team_id is not None else {"user": user}
            if LedgerEntry.objects.filter(**owner, kind=Kind.MONTHLY_REFILL, period=period).exists():
                return False
            plan = account.plan or plan_default()
            label = f"{plan.name} plan, {period:%B %Y}"
            if settings.ATELIER_REFILL_POLICY == REFILL_RESET and account.balance > 0:
                ledger_move(
                    user=user,
                    team_id=team_id,
                    amount=-account.balance,
                    kind=Kind.EXPIRY,
                    reason=f"Unused credits expire: {label}",
                )
            ledger_move(
                user=user,
                team_id=team_id,
                amount=plan.monthly_credits,
                kind=Kind.MONTHLY_REFILL,
                reason=f"Monthly credits: {label}",
                period=period,
            )
            CreditAccount.objects.filter(pk=account.pk).update(last_refill_at=now)
    except IntegrityError:
        # Another run refilled this account for the period between our check and our insert.
        return False
    return True


def credits_refill_batch(*, after_pk: int = 0, limit: int | None = None, now: datetime | None = None) -> dict:
    """Refills the next ``limit`` accounts that are due this month, in primary-key order.

    An account is due when it has no refill for the current period and was opened before the
    period began (a newer account has its welcome grant for this month). Returns how many were
    refilled, the last primary key seen and whether more may remain.
    """
    now = now or timezone.now()
    limit = limit or settings.ATELIER_REFILL_BATCH_SIZE
    period = period_of(now)
    refilled = LedgerEntry.objects.filter(user=OuterRef("user"), kind=Kind.MONTHLY_REFILL, period=period)
    team_refilled = LedgerEntry.objects.filter(team=OuterRef("team"), kind=Kind.MONTHLY_REFILL, period=period)
    due = list(
        CreditAccount.objects.filter(pk__gt=after_pk, created_at__lt=period_start(period))
        # Team wallets without a plan have no monthly credits.
        .filter(Q(team__isnull=True) | Q(plan__isnull=False))
        .filter(~Exists(refilled) & ~Exists(team_refilled))
        .order_by("pk")[:limit]
    )
    done = 0
    for account in due:
        try:
            done += credits_refill_account(account=account, period=period, now=now)
        except Exception:
            # One broken account must not stop everyone else's refill; the next run retries it.
            logger.exception("Monthly refill of credit account %s failed", account.pk)
    return {"refilled": done, "last_pk": due[-1].pk if due else after_pk, "more": len(due) == limit}
