"""Training on real Redis, PostgreSQL and Celery worker processes: a SIGKILL mid-run is recovered."""

import os
import signal
import subprocess
import sys
import time
from urllib.parse import urlparse, urlunparse

import pytest
from django.conf import settings
from django.db import connection

from tests.helpers import credits_remaining
from tests.training.factories import image_files, start, upload
from training.models import TrainingJob

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _wait(predicate, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"condition not met within {timeout} s")


@pytest.fixture
def worker(media_root):
    """Starts `celery worker -Q training` processes on the test database; kills them at the end."""
    import redis

    from config.celery import app

    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    app.conf.task_always_eager = False
    url = urlparse(os.environ["DATABASE_URL"])
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.test"),
        "DATABASE_URL": urlunparse(url._replace(path="/" + connection.settings_dict["NAME"])),
        "MEDIA_ROOT": str(media_root),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "ATELIER_TRAINING_CHECKPOINT_EVERY": "200",
    }
    processes = []

    def launch():
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "solo", "-Q", "training", "-l", "WARNING"],
            env=env,
            cwd=settings.BASE_DIR,
            start_new_session=True,
        )
        processes.append(process)
        return process

    yield launch
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    app.conf.task_always_eager = True
    redis.Redis.from_url(settings.REDIS_URL).flushdb()


def test_a_worker_killed_mid_training_resumes_from_its_checkpoint_and_charges_once(alice, worker, settings):
    from training.tasks import recover_stuck_trainings

    before = credits_remaining(alice)
    first = worker()
    job_id = start(alice, upload(alice, image_files(4)), steps=3000).json()["training_id"]
    job = _wait(lambda: TrainingJob.objects.filter(pk=job_id, checkpoint_step__gte=400).first())
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    job.refresh_from_db()
    assert job.status == "training" and job.current_step < job.steps

    settings.ATELIER_TRAINING_STALE_SECONDS = 1
    time.sleep(1.5)
    assert recover_stuck_trainings()["requeued"] == 1
    worker()
    _wait(lambda: TrainingJob.objects.filter(pk=job_id, status="completed").exists())

    status = alice.get(f"/api/training/status/{job_id}").json()
    resumed = [line for line in status["logs"] if "resuming from the checkpoint at step" in line]
    assert resumed and int(resumed[0].rsplit(" ", 1)[-1]) >= 400
    assert status["lora_id"]
    assert credits_remaining(alice) == before - job.cost
    kinds = [e["kind"] for e in alice.get("/api/credits/ledger").json()["entries"] if "LoRA training" in e["reason"]]
    assert kinds == ["debit"]
    assert TrainingJob.objects.get(pk=job_id).attempts == 2


def test_cancel_during_a_real_run_stops_the_worker_and_refunds_the_unused_part(alice, worker):
    before = credits_remaining(alice)
    worker()
    started = start(alice, upload(alice, image_files(4)), steps=3000).json()
    job_id = started["training_id"]
    _wait(lambda: TrainingJob.objects.filter(pk=job_id, current_step__gte=300).exists())
    body = alice.delete(f"/api/training/{job_id}").json()
    assert body["training"]["status"] == "cancelled"
    assert 0 < body["refunded"] < started["cost"]
    assert credits_remaining(alice) == before - started["cost"] + body["refunded"]
    step = TrainingJob.objects.get(pk=job_id).current_step
    time.sleep(1.0)
    job = TrainingJob.objects.get(pk=job_id)
    assert job.status == "cancelled" and job.current_step == step
    assert not hasattr(job, "lora") or job.lora is None


def test_a_live_stream_follows_a_worker_from_queued_to_completed(alice, worker):
    from tests.helpers import sse_frames

    worker()
    job_id = start(alice, upload(alice, image_files(4)), steps=1500).json()["training_id"]
    response = alice.get(f"/api/training/{job_id}/events", HTTP_ACCEPT="text/event-stream")
    frames = sse_frames(b"".join(response.streaming_content).decode())
    statuses = [f["data"]["status"] for f in frames if f["event"] == "status"]
    assert statuses == ["queued", "preprocessing", "training", "uploading", "completed"]
    steps = [f["data"]["current_step"] for f in frames if f["event"] == "progress"]
    assert steps == sorted(steps) and steps[-1] == 1500 and len(steps) >= 10
    losses = [f["data"]["loss"] for f in frames if f["event"] == "progress"]
    assert losses[-1] < losses[0] / 10
    status = alice.get(f"/api/training/status/{job_id}").json()
    weights = alice.get(status["model_url"])
    assert weights.status_code == 200 and b"".join(weights.streaming_content)
