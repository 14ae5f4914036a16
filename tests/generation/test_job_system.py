"""Job-system behaviour that needs no broker: tasks run in process (the embedded mode)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.errors import ProviderError, ProviderTransient
from credits.models import LedgerEntry
from generation.models import Generation, GenerationEvent, Status
from generation.providers.local import LocalProvider
from generation.services import generation_recover_stuck
from tests.helpers import assert_envelope, generate, generate_done, sse_frames

pytestmark = pytest.mark.django_db


def _refunds(generation_id) -> int:
    return LedgerEntry.objects.filter(generation_id=generation_id, kind="refund").count()


@pytest.mark.django_db(transaction=True)
def test_sync_mode_answers_the_finished_generation_with_its_images(alice):
    # Committed for real: the run starts on commit, inside the request, as it does in the
    # embedded mode.
    response = generate(alice, width=200, height=100, sync_mode=True)
    assert response.status_code == 200
    body = response.json()
    assert body["generation"]["status"] == "completed"
    assert body["results"][0]["width"] == 200
    assert body["generation"]["images"][0]["url"] == body["results"][0]["url"]


def test_transient_errors_retry_with_backoff_then_succeed(alice, settings, monkeypatch):
    settings.ATELIER_RETRY_BACKOFF_SECONDS = 0.001
    real_submit = LocalProvider.submit
    failures = iter([ProviderTransient("429 Too Many Requests"), ProviderTransient("503 busy")])

    def flaky(self, job, *, reporter):
        error = next(failures, None)
        if error:
            raise error
        return real_submit(self, job, reporter=reporter)

    monkeypatch.setattr(LocalProvider, "submit", flaky)
    generation = generate_done(alice)
    assert generation["status"] == "completed"
    assert Generation.objects.get(pk=generation["id"]).attempts == 3
    assert sum("retrying in" in line["message"] for line in generation["logs"]) == 2


def test_transient_errors_give_up_after_the_attempt_limit_and_refund(alice, settings, monkeypatch):
    settings.ATELIER_RETRY_BACKOFF_SECONDS = 0.001
    settings.ATELIER_MAX_ATTEMPTS = 2

    def always_busy(self, job, *, reporter):
        raise ProviderTransient("503 busy")

    monkeypatch.setattr(LocalProvider, "submit", always_busy)
    generation = generate_done(alice)
    assert generation["status"] == "failed"
    assert "gave up after 2 attempts" in generation["error"]
    assert _refunds(generation["id"]) == 1


def test_permanent_provider_errors_fail_at_once(alice, monkeypatch):
    calls = []

    def refuse(self, job, *, reporter):
        calls.append(job)
        raise ProviderError("Content refused by the provider's safety system")

    monkeypatch.setattr(LocalProvider, "submit", refuse)
    generation = generate_done(alice)
    assert generation["status"] == "failed"
    assert generation["error"] == "Content refused by the provider's safety system"
    assert generation["error_type"] == "provider_error"
    assert len(calls) == 1


def test_events_stream_replays_in_order_and_resumes_after_last_event_id(alice):
    generation = generate_done(alice, num_images=2)
    response = alice.get(f"/api/generate/{generation['id']}/events")
    assert response["Content-Type"] == "text/event-stream"
    frames = sse_frames(b"".join(response.streaming_content).decode())
    statuses = [f["data"]["status"] for f in frames if f["event"] == "status"]
    assert statuses == ["in_queue", "processing", "completed"]
    assert [f["data"]["progress"] for f in frames if f["event"] == "progress"] == [50, 100]
    ids = [f["id"] for f in frames]
    assert ids == sorted(ids)

    middle = ids[len(ids) // 2]
    resumed = alice.get(f"/api/generate/{generation['id']}/events", headers={"Last-Event-ID": str(middle)})
    resumed_frames = sse_frames(b"".join(resumed.streaming_content).decode())
    assert [f["id"] for f in resumed_frames] == [i for i in ids if i > middle]


def test_events_of_another_users_generation_are_a_404(alice, bob):
    generation = generate_done(alice)
    assert_envelope(bob.get(f"/api/generate/{generation['id']}/events"), 404)


class TestIdempotencyKey:
    def test_same_key_and_body_replays_the_first_answer_and_charges_once(self, alice):
        headers = {"Idempotency-Key": "order-1"}
        first = alice.post("/api/generate", {"prompt": "a cat"}, format="json", headers=headers)
        again = alice.post("/api/generate", {"prompt": "a cat"}, format="json", headers=headers)
        assert first.status_code == again.status_code == 201
        assert again.json()["generation"]["id"] == first.json()["generation"]["id"]
        assert Generation.objects.count() == 1
        assert LedgerEntry.objects.filter(kind="debit").count() == 1

    def test_same_key_with_another_body_is_a_409(self, alice):
        headers = {"Idempotency-Key": "order-2"}
        alice.post("/api/generate", {"prompt": "a cat"}, format="json", headers=headers)
        other = alice.post("/api/generate", {"prompt": "a dog"}, format="json", headers=headers)
        assert_envelope(other, 409, "idempotency_conflict")
        assert Generation.objects.count() == 1

    def test_keys_are_per_user(self, alice, bob):
        headers = {"Idempotency-Key": "shared"}
        a = alice.post("/api/generate", {"prompt": "a cat"}, format="json", headers=headers)
        b = bob.post("/api/generate", {"prompt": "a cat"}, format="json", headers=headers)
        assert a.json()["generation"]["id"] != b.json()["generation"]["id"]

    def test_a_refused_request_leaves_its_key_free_for_the_retry(self, alice):
        from credits.models import CreditAccount

        headers = {"Idempotency-Key": "short-1"}
        balance = CreditAccount.objects.get(user=alice.user).balance
        CreditAccount.objects.filter(user=alice.user).update(balance=0)
        refused = alice.post("/api/generate", {"prompt": "a cat"}, format="json", headers=headers)
        assert_envelope(refused, 402, "insufficient_credits")
        CreditAccount.objects.filter(user=alice.user).update(balance=balance)
        retried = alice.post("/api/generate", {"prompt": "a cat"}, format="json", headers=headers)
        assert retried.status_code == 201
        again = alice.post("/api/generate", {"prompt": "a cat"}, format="json", headers=headers)
        assert again.json()["generation"]["id"] == retried.json()["generation"]["id"]
        assert Generation.objects.count() == 1

    def test_a_replay_shows_the_generation_as_it_is_now(self, alice):
        headers = {"Idempotency-Key": "order-3"}
        first = alice.post("/api/generate", {"prompt": "a cat"}, format="json", headers=headers)
        Generation.objects.filter(pk=first.json()["generation"]["id"]).update(progress=42)
        again = alice.post("/api/generate", {"prompt": "a cat"}, format="json", headers=headers)
        assert again.json()["generation"]["progress"] == 42

    def test_keys_expire_after_24_hours(self, alice):
        from generation.models import IdempotencyRecord

        headers = {"Idempotency-Key": "old"}
        first = alice.post("/api/generate", {"prompt": "a cat"}, format="json", headers=headers)
        IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
        again = alice.post("/api/generate", {"prompt": "a cat"}, format="json", headers=headers)
        assert again.json()["generation"]["id"] != first.json()["generation"]["id"]


class TestRecovery:
    def _stuck(self, alice, *, status: str, **fields) -> Generation:
        generation_id = generate(alice).json()["generation"]["id"]
        Generation.objects.filter(pk=generation_id).update(status=status, **fields)
        LedgerEntry.objects.filter(generation_id=generation_id, kind="refund").delete()
        Generation.objects.get(pk=generation_id).assets.all().delete()
        return Generation.objects.get(pk=generation_id)

    def test_a_queued_job_whose_message_was_lost_is_sent_again_and_runs(self, alice, settings):
        sent = timezone.now() - timedelta(seconds=settings.ATELIER_REDISPATCH_AFTER_SECONDS + 1)
        stuck = self._stuck(alice, status=Status.IN_QUEUE, dispatched_at=sent)
        counts = generation_recover_stuck()
        assert counts["redispatched"] == 1
        stuck.refresh_from_db()
        assert stuck.status == Status.COMPLETED
        assert stuck.assets.count() == 1
        assert _refunds(stuck.pk) == 0

    def test_a_processing_job_whose_worker_died_is_requeued_and_completes(self, alice):
        stuck = self._stuck(alice, status=Status.PROCESSING, attempts=1, started_at=timezone.now())
        counts = generation_recover_stuck(now=timezone.now() + timedelta(hours=1))
        assert counts["requeued"] == 1
        stuck.refresh_from_db()
        assert stuck.status == Status.COMPLETED
        assert stuck.attempts == 2
        assert _refunds(stuck.pk) == 0
        assert LedgerEntry.objects.filter(generation=stuck, kind="debit").count() == 1

    def test_a_job_that_keeps_killing_workers_is_failed_with_a_refund(self, alice, settings):
        stuck = self._stuck(
            alice, status=Status.PROCESSING, attempts=settings.ATELIER_MAX_ATTEMPTS, started_at=timezone.now()
        )
        generation_recover_stuck(now=timezone.now() + timedelta(hours=1))
        stuck.refresh_from_db()
        assert stuck.status == Status.FAILED
        assert _refunds(stuck.pk) == 1

    def test_a_hosted_job_past_its_deadline_is_cancelled_upstream_and_refunded(self, alice, queued):
        stuck = self._stuck(
            alice, status=Status.PROCESSING, started_at=timezone.now(), provider="queued", provider_request_id="req-x"
        )
        generation_recover_stuck(now=timezone.now() + timedelta(days=1))
        stuck.refresh_from_db()
        assert stuck.status == Status.FAILED
        assert queued.cancelled == ["req-x"]
        assert _refunds(stuck.pk) == 1

    def test_a_recent_job_is_left_alone(self, alice):
        stuck = self._stuck(alice, status=Status.PROCESSING, started_at=timezone.now())
        assert generation_recover_stuck() == {"redispatched": 0, "requeued": 0, "failed": 0}
        stuck.refresh_from_db()
        assert stuck.status == Status.PROCESSING


def test_illegal_transitions_are_refused(alice):
    from generation.state import transition

    generation = generate_done(alice)
    assert not transition(generation_id=generation["id"], to=Status.PROCESSING)
    assert not transition(generation_id=generation["id"], to=Status.CANCELLED)
    assert Generation.objects.get(pk=generation["id"]).status == Status.COMPLETED
    assert GenerationEvent.objects.filter(generation_id=generation["id"], type="status").count() == 3
