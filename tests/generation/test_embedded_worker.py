"""The embedded run's shape: the API answers at once and a real Celery worker, on kombu's
filesystem broker (no Redis), does the work; a job cancelled while queued never runs."""

import logging

import pytest

from core.errors import ProviderTransient
from core.logging import RequestIDFilter
from credits.models import LedgerEntry
from generation.models import Generation, GenerationEvent, Status
from generation.providers.local import LocalProvider
from tests.helpers import credits_remaining, generate, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

QUEUES = ["default", "generation.local"]


@pytest.fixture
def local_calls(monkeypatch) -> list[str]:
    """The generations the local provider was asked to make."""
    calls: list[str] = []
    real_submit = LocalProvider.submit

    def counting_submit(self, job, *, reporter):
        calls.append(job.generation_id)
        return real_submit(self, job, reporter=reporter)

    monkeypatch.setattr(LocalProvider, "submit", counting_submit)
    return calls


@pytest.fixture
def worker_log(caplog):
    """The log records, each with the request id of the context it was written in."""
    caplog.handler.addFilter(RequestIDFilter())
    caplog.set_level(logging.INFO, logger="generation")
    return caplog


def _status(generation_id) -> str:
    return Generation.objects.values_list("status", flat=True).get(pk=generation_id)


def test_a_submit_answers_at_once_and_the_worker_completes_it(alice, filesystem_broker, local_calls, worker_log):
    response = alice.post(
        "/api/generate",
        {"model": "local/procedural", "prompt": "a lighthouse", "width": 64, "height": 64},
        format="json",
        headers={"X-Request-ID": "req-embedded-submit"},
    )
    assert response.status_code == 201, response.content
    answer = response.json()["generation"]
    assert answer["status"] == "in_queue"
    assert answer["queue_position"] == 0
    # The message waits at the broker until a worker takes it.
    assert filesystem_broker.waiting() == 1
    assert local_calls == []

    filesystem_broker.start_worker(queues=QUEUES)
    wait_until(lambda: _status(answer["id"]) == Status.COMPLETED, timeout=60)

    shown = alice.get(f"/api/generate/{answer['id']}").json()["generation"]
    assert shown["progress"] == 100 and len(shown["images"]) == 1
    assert local_calls == [answer["id"]]
    statuses = [
        event.data["status"]
        for event in GenerationEvent.objects.filter(generation_id=answer["id"], type="status").order_by("id")
    ]
    assert statuses[-2:] == ["processing", "completed"]
    assert GenerationEvent.objects.filter(generation_id=answer["id"], type="progress").exists()
    # The worker's lines name the generation and the request that created it.
    lines = [(r.getMessage(), r.request_id) for r in worker_log.records if r.name == "generation.state"]
    assert (f"Generation {answer['id']} is processing", "req-embedded-submit") in lines
    assert (f"Generation {answer['id']} is completed", "req-embedded-submit") in lines


def test_a_job_cancelled_while_queued_is_refunded_and_never_runs(alice, filesystem_broker, local_calls):
    before = credits_remaining(alice)
    cancelled = generate(alice, width=64, height=64).json()["generation"]["id"]
    assert credits_remaining(alice) == before - 1

    response = alice.delete(f"/api/generate/{cancelled}")
    assert response.status_code == 200, response.content
    assert _status(cancelled) == Status.CANCELLED
    assert credits_remaining(alice) == before

    # A job sent after it, to see that the worker does run jobs once it has passed the first.
    later = generate(alice, width=64, height=64).json()["generation"]["id"]
    filesystem_broker.start_worker(queues=QUEUES)
    wait_until(lambda: _status(later) == Status.COMPLETED, timeout=60)
    assert filesystem_broker.finished[0] == "generation.run"

    assert local_calls == [later]
    assert _status(cancelled) == Status.CANCELLED
    assert not Generation.objects.get(pk=cancelled).assets.exists()
    kinds = sorted(LedgerEntry.objects.filter(generation_id=cancelled).values_list("kind", flat=True))
    assert kinds == ["debit", "refund"]


def test_a_job_failed_after_its_attempts_logs_the_failure(alice, filesystem_broker, settings, monkeypatch, worker_log):
    settings.ATELIER_RETRY_BACKOFF_SECONDS = 0.01
    settings.ATELIER_RETRY_BACKOFF_MAX_SECONDS = 0.02

    def busy(self, job, *, reporter):
        raise ProviderTransient("The provider is busy")

    monkeypatch.setattr(LocalProvider, "submit", busy)
    response = alice.post(
        "/api/generate",
        {"model": "local/procedural", "prompt": "a lighthouse", "width": 64, "height": 64},
        format="json",
        headers={"X-Request-ID": "req-embedded-failing"},
    )
    generation_id = response.json()["generation"]["id"]
    filesystem_broker.start_worker(queues=QUEUES)
    wait_until(lambda: _status(generation_id) == Status.FAILED, timeout=60)

    [failure] = [
        record
        for record in worker_log.records
        if record.name == "generation.state" and record.levelno == logging.WARNING
    ]
    assert failure.getMessage() == (
        f"Generation {generation_id} failed (provider_unavailable): "
        f"The provider is busy (gave up after {settings.ATELIER_MAX_ATTEMPTS} attempts)"
    )
    assert failure.request_id == "req-embedded-failing"
    assert Generation.objects.get(pk=generation_id).attempts == settings.ATELIER_MAX_ATTEMPTS


def test_on_the_filesystem_broker_queue_positions_are_counted_in_the_database(alice, filesystem_broker):
    from generation.services.dispatch import queue_waiting

    # Only Redis can say how many messages wait (LLEN); the folder is not asked.
    assert queue_waiting("local") is None
    answers = [generate(alice, width=64, height=64).json()["generation"] for _ in range(2)]
    assert [answer["queue_position"] for answer in answers] == [0, 1]
    assert filesystem_broker.waiting() == 2
