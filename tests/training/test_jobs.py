"""The job system around training: owners only, cancel with refunds, lists, LoRAs, recovery."""

import pytest

from tests.helpers import assert_envelope, credits_remaining, generate
from tests.training.factories import image_files, start, upload
from training.models import TrainingJob

pytestmark = pytest.mark.django_db


def _queued(client, **body) -> dict:
    dataset = upload(client, image_files(3))
    response = start(client, dataset, **body)
    assert response.status_code == 201, response.content
    return response.json()


def _ledger(client) -> list[dict]:
    return client.get("/api/credits/ledger").json()["entries"]


def test_cancel_of_a_queued_training_refunds_the_whole_hold(alice, held_tasks):
    before = credits_remaining(alice)
    started = _queued(alice)
    assert credits_remaining(alice) == before - started["cost"]
    response = alice.delete(f"/api/training/{started['training_id']}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["training"]["status"] == "cancelled"
    assert body["refunded"] == started["cost"]
    assert credits_remaining(alice) == before
    again = alice.delete(f"/api/training/{started['training_id']}")
    assert_envelope(again, 409, "conflict")
    assert credits_remaining(alice) == before


def test_a_cancelled_job_never_runs(alice, held_tasks):
    from training.tasks import run_training

    started = _queued(alice)
    alice.delete(f"/api/training/{started['training_id']}")
    run_training(started["training_id"])
    status = alice.get(f"/api/training/status/{started['training_id']}").json()
    assert status["status"] == "cancelled" and status["current_step"] == 0


def test_bob_gets_404_for_every_object_of_alice(alice, bob):
    started = _queued(alice, steps=20)
    dataset = upload(alice, image_files(3))
    job_id = started["training_id"]
    status = alice.get(f"/api/training/status/{job_id}").json()
    lora_id = status["lora_id"]
    for url in (
        f"/api/training/status/{job_id}",
        f"/api/training/{job_id}",
        f"/api/training/{job_id}/events",
        f"/api/training/{job_id}/files/model.safetensors",
        f"/api/training/{job_id}/files/config.json",
        f"/api/training/{job_id}/files/sample-0.png",
        f"/api/training/datasets/{dataset['dataset_id']}",
        f"/api/loras/{lora_id}",
    ):
        assert_envelope(bob.get(url), 404, "not_found")
    assert_envelope(bob.delete(f"/api/training/{job_id}"), 404)
    assert_envelope(bob.delete(f"/api/loras/{lora_id}"), 404)
    assert_envelope(bob.patch(f"/api/loras/{lora_id}", {"name": "mine"}, format="json"), 404)
    response = bob.post(
        "/api/training/start", {"dataset_id": dataset["dataset_id"], "trigger_word": "x"}, format="json"
    )
    assert_envelope(response, 404)
    assert bob.get("/api/training").json()["trainings"] == []
    assert bob.get("/api/loras").json()["loras"] == []
    assert alice.get(f"/api/loras/{lora_id}").status_code == 200


def test_bob_cannot_render_with_alices_lora_and_is_not_charged(alice, bob):
    lora_id = alice.get(f"/api/training/status/{_queued(alice, steps=20)['training_id']}").json()["lora_id"]
    before = credits_remaining(bob)
    response = generate(bob, prompt="a kite", loras=[{"path": lora_id, "scale": 1.0}])
    assert_envelope(response, 400, "validation_error")
    assert credits_remaining(bob) == before


def test_lists_and_loras_can_be_named_and_deleted(alice):
    first = _queued(alice, steps=20)
    _queued(alice, steps=20)
    trainings = alice.get("/api/training").json()
    assert trainings["pagination"]["total"] == 2
    assert trainings["trainings"][1]["training_id"] == first["training_id"]
    assert alice.get("/api/training?status=completed").json()["pagination"]["total"] == 2
    assert_envelope(alice.get("/api/training?status=nope"), 400)
    loras = alice.get("/api/loras").json()["loras"]
    assert len(loras) == 2 and loras[0]["trigger_word"] == "filmlook"
    lora_id = loras[0]["id"]
    renamed = alice.patch(f"/api/loras/{lora_id}", {"name": "Warm film"}, format="json")
    assert renamed.json()["lora"]["name"] == "Warm film"
    assert_envelope(alice.patch(f"/api/loras/{lora_id}", {"name": ""}, format="json"), 400)
    assert alice.delete(f"/api/loras/{lora_id}").status_code == 200
    assert_envelope(alice.get(f"/api/loras/{lora_id}"), 404)
    assert len(alice.get("/api/loras").json()["loras"]) == 1
    response = generate(alice, prompt="a kite", loras=[{"path": lora_id, "scale": 1.0}])
    assert_envelope(response, 400)


def _recover():
    """The beat's recovery pass, with the work it sends on commit."""
    from django.test import TestCase

    from training.tasks import recover_stuck_trainings

    with TestCase.captureOnCommitCallbacks(execute=True):
        return recover_stuck_trainings()


class WorkerKilled(BaseException):
    """What a SIGKILL looks like from inside: nothing after it runs, no handler sees it."""


def _kill_worker_at(monkeypatch, step: int):
    from training.trainer import Trainer

    real = Trainer.step

    def step_then_die(self):
        if self.step_count == step:
            raise WorkerKilled
        return real(self)

    monkeypatch.setattr(Trainer, "step", step_then_die)
    return lambda: monkeypatch.setattr(Trainer, "step", real)


def test_a_worker_killed_mid_run_resumes_from_its_checkpoint_and_charges_once(alice, monkeypatch, settings):
    before = credits_remaining(alice)
    revive = _kill_worker_at(monkeypatch, 50)
    dataset = upload(alice, image_files(3))
    with pytest.raises(WorkerKilled):
        start(alice, dataset, steps=100)
    job = TrainingJob.objects.get(user=alice.user)
    status = alice.get(f"/api/training/status/{job.pk}").json()
    assert status["status"] == "training" and status["current_step"] == 50
    revive()
    settings.ATELIER_TRAINING_STALE_SECONDS = 0
    _recover()
    status = alice.get(f"/api/training/status/{job.pk}").json()
    assert status["status"] == "completed", status["logs"]
    assert any("requeued to resume from step 40" in line for line in status["logs"])
    assert any("resuming from the checkpoint at step 40" in line for line in status["logs"])
    assert credits_remaining(alice) == before - job.cost
    entries = [e for e in _ledger(alice) if "LoRA training" in e["reason"]]
    assert [e["kind"] for e in entries] == ["debit"]


def test_a_job_whose_worker_keeps_dying_fails_with_a_full_refund(alice, monkeypatch, settings):
    before = credits_remaining(alice)
    _kill_worker_at(monkeypatch, 5)
    settings.ATELIER_TRAINING_MAX_ATTEMPTS = 2
    settings.ATELIER_TRAINING_STALE_SECONDS = 0
    dataset = upload(alice, image_files(3))
    with pytest.raises(WorkerKilled):
        start(alice, dataset, steps=100)
    with pytest.raises(WorkerKilled):
        _recover()
    _recover()
    job = TrainingJob.objects.get(user=alice.user)
    status = alice.get(f"/api/training/status/{job.pk}").json()
    assert status["status"] == "failed"
    assert "stopped too many times" in status["error"]
    assert credits_remaining(alice) == before
    _recover()
    assert credits_remaining(alice) == before


def test_starts_are_rate_limited_but_quotes_are_not(alice, settings):
    settings.RATELIMIT_ENABLE = True
    settings.ATELIER_RATE_LIMITS = {**settings.ATELIER_RATE_LIMITS, "training": "2/h", "general": "100/m"}
    dataset = upload(alice, image_files(3))
    for _ in range(4):
        assert start(alice, dataset, dry_run=True).status_code == 200
    assert start(alice, dataset, steps=10).status_code == 201
    assert start(alice, dataset, steps=10).status_code == 201
    before = credits_remaining(alice)
    refused = start(alice, dataset, steps=10)
    assert_envelope(refused, 429, "rate_limited")
    assert refused["Retry-After"]
    assert credits_remaining(alice) == before


def test_a_queued_job_whose_message_was_lost_is_sent_again(alice, held_tasks, settings):
    from config.celery import app

    started = _queued(alice, steps=20)
    assert alice.get(f"/api/training/status/{started['training_id']}").json()["status"] == "queued"
    app.conf.task_always_eager = True
    settings.ATELIER_TRAINING_STALE_SECONDS = 0
    assert _recover()["redispatched"] == 1
    assert alice.get(f"/api/training/status/{started['training_id']}").json()["status"] == "completed"
