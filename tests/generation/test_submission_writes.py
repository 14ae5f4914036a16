"""A new generation's writes: the same rows whichever way they are made (one PostgreSQL
statement, or the ORM), refused whole, and the answer that describes them."""

import pytest
from django.utils import timezone

from catalog.models import AIModel
from credits.models import CreditAccount, LedgerEntry
from generation.models import DailyGenerationCount, Generation, GenerationEvent, Status
from generation.serializers import GenerationSerializer
from generation.services import submission
from ops.errors import InsufficientCredits, QuotaExceeded
from tests.helpers import assert_envelope, generate, generate_done

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


@pytest.mark.postgres
def test_the_single_statement_writes_what_the_orm_writes(alice):
    start = _balance(alice.user)
    by_orm = _new_generation(alice.user)
    saved_by_orm = submission._save_with_orm(generation=by_orm, reason="Local × 1", daily_quota=50)
    by_statement = _new_generation(alice.user)
    saved_by_statement = submission._save_in_one_statement(generation=by_statement, reason="Local × 1", daily_quota=50)

    assert saved_by_orm.balance_after == start - 3
    assert saved_by_statement.balance_after == start - 6
    orm_rows, statement_rows = _rows(by_orm.pk), _rows(by_statement.pk)
    # Each entry records the balance it left.
    assert [entry.pop("balance_after") for entry in orm_rows["entries"]] == [start - 3]
    assert [entry.pop("balance_after") for entry in statement_rows["entries"]] == [start - 6]
    assert statement_rows == orm_rows
    assert orm_rows["events"] == [{"type": "status", "data": {"status": "in_queue"}}]
    # The first is waiting when the second is saved.
    assert (saved_by_orm.waiting, saved_by_statement.waiting) == (0, 1)
    assert DailyGenerationCount.objects.get(user=alice.user).count == 2


@pytest.mark.parametrize("writer", ["_save_with_orm", "_save_in_one_statement"])
def test_a_refusal_writes_nothing(alice, writer):
    from django.db import connection

    if writer == "_save_in_one_statement" and connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    save = getattr(submission, writer)
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


def _representations(generation: Generation) -> tuple[dict, dict]:
    serializer = GenerationSerializer(generation)
    return serializer.data, serializer.to_representation_by_fields(generation)


def test_the_answer_is_what_the_declared_fields_give(alice, settings):
    done = generate_done(alice, width=64, height=64, seed=5)
    completed = Generation.objects.get(pk=done["id"])
    fast, by_fields = _representations(completed)
    assert fast == by_fields
    assert list(fast) == GenerationSerializer.Meta.fields
    assert fast["images"] and fast["finished_at"].endswith("Z")

    queued = Generation.objects.get(pk=generate(alice, width=64, height=64, sync_mode=False).json()["generation"]["id"])
    Generation.objects.filter(pk=queued.pk).update(
        status=Status.FAILED, error="refused", error_type="provider_error", error_details={"field": "prompt"}
    )
    queued.refresh_from_db()
    fast, by_fields = _representations(queued)
    assert fast == by_fields
    assert fast["error_details"] == {"field": "prompt"}


@pytest.mark.redis
def test_the_submit_answer_counts_the_messages_waiting_at_the_broker(alice, broker):
    answers = [generate(alice, width=64, height=64).json()["generation"] for _ in range(3)]
    assert [answer["queue_position"] for answer in answers] == [0, 1, 2]
    # Asked again later, the position counts the generations queued before it.
    assert alice.get(f"/api/generate/{answers[2]['id']}").json()["generation"]["queue_position"] == 2
