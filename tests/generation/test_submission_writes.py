"""A new generation's writes: its rows, its charge and its count, all or nothing."""

import pytest
from django.db import transaction
from django.utils import timezone

from catalog.models import AIModel
from core.errors import InsufficientCredits, QuotaExceeded
from credits.models import CreditAccount, LedgerEntry
from generation.models import DailyGenerationCount, Generation, GenerationEvent, Status
from generation.services import submission
from tests.helpers import assert_envelope, generate

pytestmark = pytest.mark.django_db


def _new_generation(user, *, cost: int = 3) -> Generation:
    model = AIModel.objects.get(pk="local/procedural")
    now = timezone.now()
    return Generation(
        user=user,
        model=model,
        provider=model.provider,
        status=Status.IN_QUEUE,
        queued_at=now,
        dispatched_at=now,
        prompt="a red fox",
        final_prompt="a red fox, watercolour",
        width=64,
        height=48,
        seed=7,
        params={"num_inference_steps": 4},
        cost=cost,
    )


def _rows(generation_id) -> dict:
    """What was written for one generation, without ids and times."""
    generation = Generation.objects.values().get(pk=generation_id)
    for name in ("id", "created_at", "updated_at", "queued_at", "dispatched_at"):
        assert generation.pop(name) is not None
    events = list(GenerationEvent.objects.filter(generation_id=generation_id).values("type", "data"))
    entries = list(
        LedgerEntry.objects.filter(generation_id=generation_id).values(
            "user_id", "kind", "amount", "balance_after", "reason", "actor_id", "period"
        )
    )
    return {"generation": generation, "events": events, "entries": entries}


def _balance(user) -> int:
    return CreditAccount.objects.get(user=user).balance


def test_a_save_writes_the_generation_its_event_its_debit_and_the_days_count(alice):
    start = _balance(alice.user)
    generation = _new_generation(alice.user)
    assert submission.generation_save_charged(generation=generation, reason="Local × 1", daily_quota=50) == start - 3
    rows = _rows(generation.pk)
    assert rows["generation"]["status"] == Status.IN_QUEUE
    assert rows["events"] == [{"type": "status", "data": {"status": "in_queue"}}]
    assert rows["entries"] == [
        {
            "user_id": alice.user.pk,
            "kind": "debit",
            "amount": -3,
            "balance_after": start - 3,
            "reason": "Local × 1",
            "actor_id": None,
            "period": None,
        }
    ]
    assert DailyGenerationCount.objects.get(user=alice.user).count == 1


def test_a_refusal_writes_nothing(alice):
    def save(**kwargs):
        # As generation_create calls it: in its own transaction, which a refusal rolls back.
        with transaction.atomic():
            submission.generation_save_charged(**kwargs)

    start = _balance(alice.user)
    with pytest.raises(InsufficientCredits):
        save(generation=_new_generation(alice.user, cost=start + 1), reason="too dear", daily_quota=None)
    save(generation=_new_generation(alice.user), reason="one", daily_quota=2)
    save(generation=_new_generation(alice.user), reason="two", daily_quota=2)
    with pytest.raises(QuotaExceeded):
        save(generation=_new_generation(alice.user), reason="three", daily_quota=2)

    assert Generation.objects.filter(user=alice.user).count() == 2
    assert LedgerEntry.objects.filter(user=alice.user, kind="debit").count() == 2
    assert GenerationEvent.objects.filter(generation__user=alice.user).count() == 2
    assert _balance(alice.user) == start - 6
    assert DailyGenerationCount.objects.get(user=alice.user).count == 2


def test_the_daily_quota_counts_the_days_generations_through_the_api(alice, bob, settings):
    settings.ATELIER_QUOTAS_ENABLED = True
    settings.ATELIER_DEFAULT_DAILY_GENERATIONS = 2
    assert generate(alice, width=64, height=64).status_code == 201
    assert generate(alice, width=64, height=64).status_code == 201
    assert_envelope(generate(alice, width=64, height=64), 429, "quota_exceeded")
    # Bob's day is his own.
    assert generate(bob, width=64, height=64).status_code == 201


@pytest.mark.redis
def test_the_submit_answer_gives_the_place_in_the_queue(alice, broker):
    answers = [generate(alice, width=64, height=64).json()["generation"] for _ in range(3)]
    assert [answer["queue_position"] for answer in answers] == [0, 1, 2]
    # Asked again later, the position counts the generations queued before it.
    assert alice.get(f"/api/generate/{answers[2]['id']}").json()["generation"]["queue_position"] == 2
