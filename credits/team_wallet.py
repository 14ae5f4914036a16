"""Team wallets: a team's credit account on the same ledger as everyone's.

A wallet is a ``CreditAccount`` with ``team`` set; its entries name the team and the ``member``
who spent. A debit in a team is one atomic block, like every move: it takes the member's row
lock (``Membership``, select_for_update), checks the member's daily generation cap and monthly
credit cap from the ledger, then takes the credits with the same conditional UPDATE as a
personal debit. Concurrent debits by one member queue on that row, so a cap is exact; debits
by everyone queue on the wallet's row, so the wallet never goes negative.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.errors import InsufficientCredits, NotFound, QuotaExceeded, ValidationFailed
from credits.models import CreditAccount, LedgerEntry, Plan
from credits.periods import next_refill_at, period_next, period_of, period_start
from credits.selectors import next_utc_midnight
from credits.services import ledger_move, ledger_move_if_covered
from credits.team_selectors import team_member_generations_between, team_member_spent_between, team_wallet_balance
from teams.models import Membership, Team

Kind = LedgerEntry.Kind

# ``POST /admin/api/teams/{id}/credits`` says "deduct" for what the personal route calls "subtract".
TEAM_ADJUST_ACTIONS = ("add", "deduct", "subtract", "set")


def team_wallet_open(*, team: Team) -> CreditAccount:
    """Opens the team's wallet (once), with ``ATELIER_TEAM_STARTING_CREDITS`` and no plan: staff
    give it credits or a plan with a monthly refill."""
    with transaction.atomic():
        account, created = CreditAccount.objects.get_or_create(team=team)
        if created and settings.ATELIER_TEAM_STARTING_CREDITS > 0:
            ledger_move(
                user=None,
                team_id=team.pk,
                amount=settings.ATELIER_TEAM_STARTING_CREDITS,
                kind=Kind.GRANT,
                reason="Team starting credits",
            )
            account.refresh_from_db()
        return account


def _wallet_refusal(*, team: Team, amount: int, balance: int) -> InsufficientCredits:
    return InsufficientCredits(
        "Insufficient credits in the team's wallet",
        details=(
            f"This needs {amount} credits and the wallet of the team “{team.name}” has {balance} left. "
            "Ask an owner or admin of the team to have credits added, or work in your personal space."
        ),
        wallet="team",
        team=str(team.pk),
        exhausted="team_wallet",
        credits_remaining=balance,
        credits_required=amount,
    )


def _cap_refusal(*, membership: Membership, amount: int, spent: int, balance: int, now) -> InsufficientCredits:
    cap = membership.monthly_credit_cap
    resets = next_refill_at(now)
    stamp = resets.isoformat().replace("+00:00", "Z")
    return InsufficientCredits(
        "Your monthly credit cap in this team is reached",
        details=(
            f"Your cap in the team “{membership.team.name}” is {cap} credits a month; you have spent {spent} "
            f"and this needs {amount}. It resets on {resets:%B} {resets.day} (UTC); an owner or admin may raise it."
        ),
        wallet="team",
        team=str(membership.team_id),
        exhausted="member_monthly_credit_cap",
        limit={
            "name": "team_member_monthly_credits",
            "limit": cap,
            "remaining": max(cap - spent, 0),
            "window": "month (UTC)",
            "resets_at": stamp,
        },
        credits_remaining=balance,
        credits_required=amount,
    )


def _daily_refusal(*, membership: Membership, now) -> QuotaExceeded:
    cap = membership.daily_generation_cap
    resets_at = next_utc_midnight(now)
    error = QuotaExceeded.reached(
        limit="team_member_daily_generations",
        allowed=cap,
        unit="generations",
        window="day (UTC)",
        resets_at=resets_at,
        retry_after=int((resets_at - now).total_seconds()) + 1,
        message="Your daily generation cap in this team is reached",
        counts=f"Set by the team “{membership.team.name}”; an owner or admin may raise it.",
    )
    error.extra.update(wallet="team", team=str(membership.team_id), exhausted="member_daily_generation_cap")
    return error


def team_wallet_debit(*, team_id, member, amount: int, reason: str, generation=None, actor=None) -> LedgerEntry:
    """Takes ``amount`` from the team's wallet in ``member``'s name, within the member's caps.

    Refusals change nothing: 404 for someone no longer in the team, 429 (``exhausted``:
    ``member_daily_generation_cap``) when a generation would pass the member's daily cap, 402
    (``member_monthly_credit_cap`` or ``team_wallet``) when the credits would pass the member's
    monthly cap or the wallet's balance. Call it inside the transaction that saves the work.
    """
    if amount < 0:
        raise ValueError("A debit amount must not be negative")
    now = timezone.now()
    refusal = None
    # No savepoint, as credits_debit: refusals are raised outside the block, having changed nothing.
    with transaction.atomic(savepoint=False):
        membership = (
            Membership.objects.select_for_update(of=("self",))
            .select_related("team")
            .filter(team_id=team_id, user=member, team__deleted_at__isnull=True)
            .first()
        )
        if membership is None:
            refusal = NotFound("Team not found")
        elif generation is not None and membership.daily_generation_cap is not None:
            midnight = next_utc_midnight(now)
            started = team_member_generations_between(
                team_id=team_id, member=member, start=midnight - timedelta(days=1), end=midnight
            )
            if started >= membership.daily_generation_cap:
                refusal = _daily_refusal(membership=membership, now=now)
        if refusal is None and membership.monthly_credit_cap is not None:
            period = period_of(now)
            spent = team_member_spent_between(
                team_id=team_id, member=member, start=period_start(period), end=period_start(period_next(period))
            )
            if spent + amount > membership.monthly_credit_cap:
                balance = team_wallet_balance(team_id=team_id)
                refusal = _cap_refusal(membership=membership, amount=amount, spent=spent, balance=balance, now=now)
        if refusal is None:
            entry = ledger_move_if_covered(
                user=None,
                team_id=team_id,
                member=member,
                amount=-amount,
                kind=Kind.DEBIT,
                reason=reason,
                actor=actor,
                generation=generation,
                period=None,
            )
            if entry is None:
                refusal = _wallet_refusal(
                    team=membership.team, amount=amount, balance=team_wallet_balance(team_id=team_id)
                )
    if refusal is not None:
        raise refusal
    return entry


def team_wallet_refund(*, team_id, member, amount: int, reason: str) -> LedgerEntry:
    """Gives ``amount`` back to the team's wallet in ``member``'s name (work not delivered)."""
    if amount <= 0:
        raise ValueError("A refund must be positive")
    with transaction.atomic():
        return ledger_move(user=None, team_id=team_id, member=member, amount=amount, kind=Kind.REFUND, reason=reason)


def team_wallet_admin_adjust(
    *, team: Team, action: str, amount: int, reason: str, actor
) -> tuple[int, int, LedgerEntry]:
    """A staff grant or correction of a team's wallet: add, deduct or set, as a new ledger entry
    naming the staff member. A reason is required; the wallet never goes below zero (400)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("A reason is required", details={"reason": ["Say why the credits change."]})
    if action not in TEAM_ADJUST_ACTIONS:
        raise ValidationFailed(details={"action": ["Use one of: add, deduct, set."]})
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise ValidationFailed(details={"amount": ["Must be a whole number of credits, 0 or more."]})
    if action != "set" and amount == 0:
        raise ValidationFailed(details={"amount": ["Must be at least 1."]})
    with transaction.atomic():
        team_wallet_open(team=team)
        account = CreditAccount.objects.select_for_update().get(team=team)
        old = account.balance
        delta = {"add": amount, "deduct": -amount, "subtract": -amount, "set": amount - old}[action]
        if old + delta < 0:
            raise ValidationFailed(
                "Cannot deduct below zero",
                details={"amount": [f"The team's wallet has only {old} credits."]},
                credits_remaining=old,
            )
        entry = ledger_move(
            user=None, team_id=team.pk, amount=delta, kind=Kind.ADMIN_ADJUSTMENT, reason=reason[:300], actor=actor
        )
    return old, entry.balance_after, entry


def team_wallet_plan_set(*, team: Team, plan: Plan | None) -> CreditAccount:
    """Puts the team's wallet on a plan (its monthly credits from the next refill); None: no refill."""
    account = team_wallet_open(team=team)
    CreditAccount.objects.filter(pk=account.pk).update(plan=plan, updated_at=timezone.now())
    account.refresh_from_db()
    return account
