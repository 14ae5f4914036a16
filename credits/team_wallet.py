"""Team wallets: a team's credit account on the same ledger as everyone's.

A wallet is a ``CreditAccount`` with ``team`` set; its entries name the team and the ``member``
who spent. A debit in a team is one atomic block, like every move: the member's month goes up
only while under their monthly cap (one conditional UPDATE of their ``TeamMemberSpend`` row,
joined to their membership), their day's generations are counted when they have a daily cap,
then the wallet goes down only while it covers the cost (a conditional UPDATE, as a personal
debit) and the ledger entry is written. Concurrent debits by one member queue on their month's
row, so a cap is exact; debits by everyone queue on the wallet's row, so it never goes negative.
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from core.errors import InsufficientCredits, NotFound, QuotaExceeded, ValidationFailed
from credits.models import CreditAccount, LedgerEntry, Plan, TeamMemberSpend
from credits.periods import next_refill_at, period_of
from credits.selectors import next_utc_midnight
from credits.services import admin_adjust_checked, admin_adjust_delta, ledger_move
from credits.team_selectors import team_member_generations_between, team_wallet_balance
from credits.team_spend import NOT_CHARGED, team_member_spend_charge, team_member_spend_refund
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


def _wallet_take(*, team_id, amount: int) -> int | None:
    """Takes ``amount`` from the wallet unless it would go below zero: the balance left, or None.
    One conditional UPDATE that answers the new balance (RETURNING), read under its row lock."""
    quote = connection.ops.quote_name
    table = quote(CreditAccount._meta.db_table)
    team_key = team_id.hex if connection.vendor == "sqlite" else team_id
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET balance = balance - %s, updated_at = %s "  # noqa: S608 - the table name only
            "WHERE team_id = %s AND balance >= %s RETURNING balance",
            [amount, timezone.now(), team_key, amount],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _membership(*, team_id, member) -> Membership | None:
    return (
        Membership.objects.select_related("team")
        .filter(team_id=team_id, user=member, team__deleted_at__isnull=True)
        .first()
    )


def team_wallet_debit(*, team_id, member, amount: int, reason: str, generation=None, actor=None) -> LedgerEntry:
    """Takes ``amount`` from the team's wallet in ``member``'s name, within the member's caps.

    Refusals change nothing: 404 for someone not in the team, 402 (``exhausted``:
    ``member_monthly_credit_cap`` or ``team_wallet``) when the credits would pass the member's
    monthly cap or the wallet's balance, 429 (``member_daily_generation_cap``) when a generation
    would pass the member's daily cap. Call it inside the transaction that saves the work.

    Within the caps it is three statements, as a personal debit: the member's month goes up
    under their cap (credits.team_spend), the wallet goes down while it covers the cost, and the
    ledger entry is written.
    """
    if amount < 0:
        raise ValueError("A debit amount must not be negative")
    team_id = team_id if isinstance(team_id, uuid.UUID) else uuid.UUID(str(team_id))
    now = timezone.now()
    period = period_of(now)
    # No savepoint, as credits_debit. A refusal after the month's count moved is raised inside
    # the block, which rolls the move back with the caller's transaction.
    with transaction.atomic(savepoint=False):
        daily_cap = team_member_spend_charge(team_id=team_id, member_id=member.pk, period=period, amount=amount)
        if daily_cap is not NOT_CHARGED:
            if generation is not None and daily_cap is not None:
                midnight = next_utc_midnight(now)
                started = team_member_generations_between(
                    team_id=team_id, member=member, start=midnight - timedelta(days=1), end=midnight
                )
                if started >= daily_cap:
                    raise _daily_refusal(membership=_membership(team_id=team_id, member=member), now=now)
            balance = _wallet_take(team_id=team_id, amount=amount)
            if balance is None:
                membership = _membership(team_id=team_id, member=member)
                raise _wallet_refusal(team=membership.team, amount=amount, balance=team_wallet_balance(team_id=team_id))
            return LedgerEntry.objects.create(
                team_id=team_id,
                member=member,
                kind=Kind.DEBIT,
                amount=-amount,
                balance_after=balance,
                reason=reason,
                actor=actor,
                generation=generation,
            )
    # Not charged: not a member (any more), or over the monthly cap. Nothing changed.
    membership = _membership(team_id=team_id, member=member)
    if membership is None:
        raise NotFound("Team not found")
    spent = (
        TeamMemberSpend.objects.filter(team_id=team_id, user=member, period=period)
        .values_list("credits", flat=True)
        .first()
        or 0
    )
    raise _cap_refusal(
        membership=membership, amount=amount, spent=spent, balance=team_wallet_balance(team_id=team_id), now=now
    )


def team_wallet_refund(*, team_id, member, amount: int, reason: str) -> LedgerEntry:
    """Gives ``amount`` back to the team's wallet in ``member``'s name (work not delivered)."""
    if amount <= 0:
        raise ValueError("A refund must be positive")
    with transaction.atomic():
        team_member_spend_refund(team_id=team_id, member_id=member.pk, period=period_of(timezone.now()), amount=amount)
        return ledger_move(user=None, team_id=team_id, member=member, amount=amount, kind=Kind.REFUND, reason=reason)


def team_wallet_admin_adjust(
    *, team: Team, action: str, amount: int, reason: str, actor
) -> tuple[int, int, LedgerEntry]:
    """A staff grant or correction of a team's wallet: add, deduct or set, as a new ledger entry
    naming the staff member. A reason is required; the wallet never goes below zero (400)."""
    reason = admin_adjust_checked(action=action, amount=amount, reason=reason, actions=TEAM_ADJUST_ACTIONS)
    with transaction.atomic():
        team_wallet_open(team=team)
        account = CreditAccount.objects.select_for_update().get(team=team)
        old = account.balance
        delta = admin_adjust_delta(action=action, amount=amount, old=old)
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
