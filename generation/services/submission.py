"""Saving a new generation together with its charge and its place in the day's quota.

One transaction, the same on every database, all or nothing:

1. the user's counter of the day goes up by one, but only while it is under the quota: a
   conditional ``UPDATE``, so concurrent submissions queue on the counter's row and each one
   sees the others' result (the quota is exact, not read once and trusted);
2. the generation (straight into ``in_queue``) and its first status event are inserted;
3. the balance goes down by the cost, but only while it covers it, with its ledger entry
   (``credits_debit``, the same conditional ``UPDATE`` every move of credits uses).

Made as a team, 1 is the member's daily cap in the team and 3 takes the team's wallet within
the member's monthly cap (``team_wallet_debit``, under the member's row lock), in place of the
plan's quota and the personal balance.

A refusal at 1 or 3 raises ``QuotaExceeded`` or ``InsufficientCredits`` and rolls all of it back.
"""

from django.db import transaction
from django.db.models import F

from credits.quotas import daily_generations_refuse
from credits.services import credits_debit
from credits.team_wallet import team_wallet_debit
from generation.models import DailyGenerationCount, Generation, GenerationEvent, Status


def generation_save_charged(*, generation: Generation, reason: str, daily_quota: int | None) -> int:
    """Saves the new (unsaved) generation with its status event, debit and day count; the
    balance the debit left. ``daily_quota`` None: no quota, the day is still counted."""
    # No savepoint of its own: a refusal rolls back the caller's whole transaction anyway.
    with transaction.atomic(savepoint=False):
        if generation.team_id is None:
            _count_in_quota(user_id=generation.user_id, day=generation.queued_at.date(), quota=daily_quota)
        generation.save(force_insert=True)
        GenerationEvent.objects.create(
            generation=generation, type=GenerationEvent.Type.STATUS, data={"status": Status.IN_QUEUE}
        )
        if generation.team_id is None:
            debit = credits_debit(user=generation.user, amount=generation.cost, reason=reason, generation=generation)
        else:
            debit = team_wallet_debit(
                team_id=generation.team_id,
                member=generation.user,
                amount=generation.cost,
                reason=reason,
                generation=generation,
            )
    return debit.balance_after


def _count_in_quota(*, user_id: int, day, quota: int | None) -> None:
    counter = DailyGenerationCount.objects.filter(user_id=user_id, day=day)
    if quota is not None:
        counter = counter.filter(count__lt=quota)
    if counter.update(count=F("count") + 1):
        return
    # The day's first generation (or the quota is used up): the day's row is made once, a
    # concurrent maker of the same row being ignored, and counted as above.
    DailyGenerationCount.objects.bulk_create([DailyGenerationCount(user_id=user_id, day=day)], ignore_conflicts=True)
    if not counter.update(count=F("count") + 1):
        daily_generations_refuse(limit=quota)
