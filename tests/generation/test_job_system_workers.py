"""The job system on real Redis, PostgreSQL and Celery workers."""

import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from urllib.parse import urlparse, urlunparse

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from credits.models import LedgerEntry
from generation.models import Generation, Status
from generation.providers.local import LocalProvider
from generation.services import generation_complete, generation_recover_stuck
from tests.conftest import Client
from tests.generation.conftest import JOB_QUEUES
from tests.helpers import generate, wait_until

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _status(generation_id) -> str:
    return Generation.objects.values_list("status", flat=True).get(pk=generation_id)


def _ledger(generation_id) -> list[str]:
    return sorted(LedgerEntry.objects.filter(generation_id=generation_id).values_list("kind", flat=True))


def test_fifty_concurrent_jobs_each_run_once_with_queue_positions_in_order(alice, broker, start_worker, monkeypatch):
    calls: list[str] = []
    lock = threading.Lock()
    real_submit = LocalProvider.submit

    def counting_submit(self, job, *, reporter):
        with lock:
            calls.append(job.generation_id)
        return real_submit(self, job, reporter=reporter)

    monkeypatch.setattr(LocalProvider, "submit", counting_submit)
    ids: list[str] = []

    def submit_some(count: int):
        client = Client()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {alice.secret}")
        for _ in range(count):
            response = generate(client, width=64, height=64)
            assert response.status_code == 201, response.content
            with lock:
                ids.append(response.json()["generation"]["id"])
        connection.close()

    threads = [threading.Thread(target=submit_some, args=(5,)) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(ids) == 50

    queued = sorted(Generation.objects.filter(pk__in=ids), key=lambda g: (g.queued_at, g.pk))
    positions = [alice.get(f"/api/generate/{g.pk}").json()["generation"]["queue_position"] for g in queued]
    assert positions == list(range(50))

    start_worker(concurrency=4)
    wait_until(lambda: Generation.objects.filter(pk__in=ids, status=Status.COMPLETED).count() == 50, timeout=120)
    assert sorted(calls) == sorted(ids)
    assert LedgerEntry.objects.filter(generation_id__in=ids, kind="debit").count() == 50
    assert not LedgerEntry.objects.filter(generation_id__in=ids, kind="refund").exists()


def test_cancel_while_queued_never_reaches_the_provider(alice, gated, start_worker):
    generation_id = generate(alice, model="test/gated").json()["generation"]["id"]
    assert _status(generation_id) == Status.IN_QUEUE
    assert alice.delete(f"/api/generate/{generation_id}").status_code == 200
    start_worker()
    other = generate(alice, model="test/gated").json()["generation"]["id"]
    gated.gate.set()
    wait_until(lambda: _status(other) == Status.COMPLETED)
    assert gated.calls == [other]
    assert _status(generation_id) == Status.CANCELLED
    assert _ledger(generation_id) == ["debit", "refund"]


def test_cancel_while_processing_discards_the_result_and_leaves_other_jobs_alone(alice, gated, start_worker):
    start_worker()
    doomed = generate(alice, model="test/gated").json()["generation"]["id"]
    survivor = generate(alice, model="test/gated").json()["generation"]["id"]
    wait_until(lambda: _status(doomed) == Status.PROCESSING)
    assert alice.delete(f"/api/generate/{doomed}").status_code == 200
    gated.gate.set()
    wait_until(lambda: _status(survivor) == Status.COMPLETED)
    wait_until(lambda: len(gated.calls) == 2)
    assert _status(doomed) == Status.CANCELLED
    assert Generation.objects.get(pk=doomed).assets.count() == 0
    assert _ledger(doomed) == ["debit", "refund"]
    assert alice.delete(f"/api/generate/{doomed}").status_code == 409
    assert _ledger(doomed) == ["debit", "refund"]


def test_hosted_jobs_hold_no_worker_and_cancel_upstream(alice, queued, start_worker):
    queued.polls_needed = 5
    start_worker(concurrency=1)
    ids = [generate(alice, model="test/queued").json()["generation"]["id"] for _ in range(30)]
    wait_until(lambda: Generation.objects.filter(pk__in=ids, status=Status.COMPLETED).count() == 30, timeout=120)
    assert queued.submits == 30

    queued.polls_needed = 10**6
    running = generate(alice, model="test/queued").json()["generation"]["id"]
    wait_until(lambda: Generation.objects.get(pk=running).provider_request_id)
    assert alice.delete(f"/api/generate/{running}").status_code == 200
    assert queued.cancelled == [f"req-{running}"]
    assert _ledger(running) == ["debit", "refund"]


def test_cancel_racing_completion_refunds_at_most_once(alice):
    outcomes = []
    for _ in range(15):
        generation = Generation.objects.get(pk=generate(alice, width=64, height=64).json()["generation"]["id"])
        Generation.objects.filter(pk=generation.pk).update(status=Status.PROCESSING)
        generation.assets.all().delete()
        from generation.providers.base import ProviderOutput

        outputs = [ProviderOutput(data=b"not-an-image-but-bytes", format="png", width=64, height=64)]
        barrier = threading.Barrier(2)

        def complete(generation=generation, outputs=outputs, barrier=barrier):
            barrier.wait()
            generation_complete(generation=generation, outputs=outputs)
            connection.close()

        def cancel(generation=generation, barrier=barrier):
            barrier.wait()
            transition_and_refund(generation)
            connection.close()

        threads = [threading.Thread(target=complete), threading.Thread(target=cancel)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        generation.refresh_from_db()
        refunds = _ledger(generation.pk).count("refund")
        if generation.status == Status.COMPLETED:
            assert refunds == 0 and generation.assets.count() == 1
        else:
            assert generation.status == Status.CANCELLED
            assert refunds == 1 and generation.assets.count() == 0
        outcomes.append(generation.status)
    assert set(outcomes) <= {Status.COMPLETED, Status.CANCELLED}


def transition_and_refund(generation):
    from core.errors import Conflict
    from generation.services import generation_cancel

    try:
        generation_cancel(generation=generation)
    except Conflict:
        pass


def _test_database_url() -> str:
    parts = urlparse(os.environ["DATABASE_URL"])
    return urlunparse(parts._replace(path="/" + connection.settings_dict["NAME"]))


def test_a_worker_killed_mid_job_is_recovered_without_double_charge(alice, broker, start_worker, media_root):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _test_database_url(),
        "MEDIA_ROOT": str(media_root),
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-P",
            "solo",
            "-Q",
            ",".join(JOB_QUEUES),
            "-l",
            "WARNING",
        ],
        env=env,
        cwd=settings.BASE_DIR,
        start_new_session=True,
    )
    try:
        # Four 2048² images keep the worker busy long enough to be killed in the middle.
        generation_id = generate(alice, width=2048, height=2048, num_images=4).json()["generation"]["id"]
        wait_until(lambda: _status(generation_id) == Status.PROCESSING, timeout=60, interval=0.01)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    assert _status(generation_id) == Status.PROCESSING

    counts = generation_recover_stuck(now=timezone.now() + timedelta(hours=1))
    assert counts["requeued"] == 1
    start_worker()
    wait_until(lambda: _status(generation_id) == Status.COMPLETED, timeout=120)

    generation = Generation.objects.get(pk=generation_id)
    assert generation.attempts == 2
    assert generation.assets.count() == 4
    assert _ledger(generation_id) == ["debit"]


def test_sync_mode_answers_202_when_the_job_outlasts_the_bound(alice, settings, gated, start_worker):
    settings.ATELIER_SYNC_TIMEOUT_SECONDS = 0.5
    start_worker()
    response = generate(alice, model="test/gated", sync_mode=True)
    assert response.status_code == 202
    assert response.json()["generation"]["status"] in (Status.IN_QUEUE, Status.PROCESSING)
    assert "results" not in response.json()
    gated.gate.set()
    generation_id = response.json()["generation"]["id"]
    wait_until(lambda: _status(generation_id) == Status.COMPLETED)


def test_sync_mode_returns_the_image_of_a_fast_job_through_a_worker(alice, start_worker):
    start_worker()
    response = generate(alice, width=64, height=64, sync_mode=True)
    assert response.status_code == 200
    assert response.json()["generation"]["status"] == "completed"
    assert len(response.json()["results"]) == 1


def test_idempotency_key_under_ten_concurrent_identical_requests(alice):
    answers = []
    lock = threading.Lock()
    barrier = threading.Barrier(10)

    def post():
        client = Client()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {alice.secret}")
        barrier.wait()
        response = client.post(
            "/api/generate", {"prompt": "same"}, format="json", headers={"Idempotency-Key": "burst-1"}
        )
        with lock:
            answers.append((response.status_code, response.json()["generation"]["id"]))
        connection.close()

    threads = [threading.Thread(target=post) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {status for status, _ in answers} == {201}
    assert len({generation_id for _, generation_id in answers}) == 1
    assert Generation.objects.count() == 1
    assert LedgerEntry.objects.filter(kind="debit").count() == 1


def test_the_event_stream_follows_a_live_job_to_its_end(alice, gated, start_worker):
    import json

    start_worker()
    generation_id = generate(alice, model="test/gated").json()["generation"]["id"]
    threading.Timer(0.5, gated.gate.set).start()
    response = alice.get(f"/api/generate/{generation_id}/events")
    text = b"".join(response.streaming_content).decode()
    statuses = [
        json.loads(line[6:])["status"] for line in text.splitlines() if line.startswith("data: ") and '"status"' in line
    ]
    assert statuses == ["in_queue", "processing", "completed"]
    assert _status(generation_id) == Status.COMPLETED
