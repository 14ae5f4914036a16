"""Exactness under concurrency, on PostgreSQL with real threads."""

import threading

import pytest
from django.db import connection
from django.utils import timezone

from catalog.models import AIModel
from core.errors import Conflict
from credits.models import LedgerEntry
from credits.services import credits_debit, credits_refund_generation
from generation.models import Generation, Status
from generation.services import generation_cancel, generation_complete, generation_fail
from tests.conftest import Client
from tests.credits.conftest import balance_of, ledger_sum
from tests.helpers import LOCAL_MODEL

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

REQUESTS = 200
AFFORDABLE = 37
# PostgreSQL's default max_connections is 100 and other test runs share the server: the 200
# requests start together, and at most this many hold a database connection at once.
CONNECTIONS = 40


def _run_together(targets) -> None:
    barrier = threading.Barrier(len(targets))

    def wrapped(target):
        barrier.wait()
        try:
            target()
        finally:
            connection.close()

    threads = [threading.Thread(target=wrapped, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_200_concurrent_generate_requests_with_credits_for_37(alice, set_balance):
    cost = AIModel.objects.get(pk=LOCAL_MODEL).credit_cost
    set_balance(alice.user, AFFORDABLE * cost)
    gate = threading.BoundedSemaphore(CONNECTIONS)
    answers, lock = [], threading.Lock()

    def post():
        client = Client()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {alice.secret}")
        with gate:
            response = client.post(
                "/api/generate", {"model": LOCAL_MODEL, "prompt": "race", "width": 64, "height": 64}, format="json"
            )
            connection.close()
        with lock:
            answers.append((response.status_code, response.json()))

    _run_together([post] * REQUESTS)

    statuses = [status for status, _ in answers]
    assert statuses.count(201) == AFFORDABLE
    assert statuses.count(402) == REQUESTS - AFFORDABLE
    assert all(body["type"] == "insufficient_credits" for status, body in answers if status == 402)
    assert balance_of(alice.user) == 0
    assert ledger_sum(alice.user) == 0
    assert LedgerEntry.objects.filter(user=alice.user, kind="debit").count() == AFFORDABLE
    assert Generation.objects.filter(user=alice.user).count() == AFFORDABLE


def _processing_generation(user) -> Generation:
    model = AIModel.objects.get(pk=LOCAL_MODEL)
    generation = Generation.objects.create(
        user=user,
        model=model,
        provider=model.provider,
        prompt="p",
        width=64,
        height=64,
        cost=3,
        status=Status.PROCESSING,
    )
    credits_debit(user=user, amount=3, reason="race", generation=generation)
    return generation


def test_refunds_racing_completion_cancel_and_failure_never_refund_twice(alice):
    from generation.providers.base import ProviderOutput

    start = balance_of(alice.user)
    for _ in range(10):
        generation = _processing_generation(alice.user)

        def complete(generation=generation):
            outputs = [ProviderOutput(data=b"bytes", format="png", width=64, height=64)]
            generation_complete(generation=generation, outputs=outputs)

        def cancel(generation=generation):
            try:
                generation_cancel(generation=generation)
            except Conflict:
                pass

        def fail(generation=generation):
            generation_fail(generation_id=generation.pk, message="timeout")

        _run_together([complete, cancel, cancel, fail, fail])
        generation.refresh_from_db()
        refunds = LedgerEntry.objects.filter(generation=generation, kind="refund").count()
        assert refunds == (0 if generation.status == Status.COMPLETED else 1)
    completed = Generation.objects.filter(user=alice.user, status=Status.COMPLETED).count()
    assert balance_of(alice.user) == ledger_sum(alice.user) == start - 3 * completed


def test_concurrent_direct_refunds_of_one_generation_refund_once(alice):
    start = balance_of(alice.user)
    generation = _processing_generation(alice.user)
    _run_together([lambda: credits_refund_generation(generation=generation, reason="race")] * 20)
    assert LedgerEntry.objects.filter(generation=generation, kind="refund").count() == 1
    assert balance_of(alice.user) == ledger_sum(alice.user) == start


def test_20_concurrent_submits_at_three_below_the_daily_quota_accept_exactly_three(alice, set_balance, settings):
    from generation.models import DailyGenerationCount

    settings.ATELIER_QUOTAS_ENABLED = True
    settings.ATELIER_DEFAULT_DAILY_GENERATIONS = 10
    DailyGenerationCount.objects.create(user=alice.user, day=timezone.now().date(), count=7)
    set_balance(alice.user, 1000)
    answers, lock = [], threading.Lock()

    def post():
        client = Client()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {alice.secret}")
        response = client.post(
            "/api/generate", {"model": LOCAL_MODEL, "prompt": "race", "width": 64, "height": 64}, format="json"
        )
        with lock:
            answers.append((response.status_code, response.json()))

    _run_together([post] * 20)

    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] * 3 + [429] * 17
    assert all(body["type"] == "quota_exceeded" for status, body in answers if status == 429)
    cost = AIModel.objects.get(pk=LOCAL_MODEL).credit_cost
    assert LedgerEntry.objects.filter(user=alice.user, kind="debit").count() == 3
    assert balance_of(alice.user) == 1000 - 3 * cost
    assert ledger_sum(alice.user) == balance_of(alice.user)
    assert DailyGenerationCount.objects.get(user=alice.user).count == 10
    assert Generation.objects.filter(user=alice.user).count() == 3
