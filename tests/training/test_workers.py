"""Training on real Redis, PostgreSQL and Celery worker processes: a SIGKILL mid-run is recovered."""

import os
import signal
import subprocess
import sys
from datetime import timedelta
from urllib.parse import urlparse, urlunparse

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.utils import timezone

from tests.helpers import credits_remaining, wait_until
from tests.training.factories import image_files, start, upload
from training.models import TrainingJob

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


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
    job = wait_until(
        lambda: TrainingJob.objects.filter(pk=job_id, checkpoint_step__gte=400).first(),
        timeout=120,
        message="the worker saved no checkpoint past step 400",
    )
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    job.refresh_from_db()
    assert job.status == "training" and job.current_step < job.steps

    # Beat's pass once the killed worker has been silent for longer than the stale limit.
    silent = timezone.now() + timedelta(seconds=settings.ATELIER_TRAINING_STALE_SECONDS + 1)
    with time_machine.travel(silent, tick=False):
        assert recover_stuck_trainings()["requeued"] == 1
    worker()
    wait_until(
        lambda: TrainingJob.objects.filter(pk=job_id, status="completed").exists(),
        timeout=120,
        message="the resumed training did not complete",
    )

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
    dataset = upload(alice, image_files(4))
    started = start(alice, dataset, steps=3000).json()
    job_id = started["training_id"]
    wait_until(
        lambda: TrainingJob.objects.filter(pk=job_id, current_step__gte=300).exists(),
        timeout=120,
        message="the worker did not reach step 300",
    )
    body = alice.delete(f"/api/training/{job_id}").json()
    assert body["training"]["status"] == "cancelled"
    assert 0 < body["refunded"] < started["cost"]
    assert credits_remaining(alice) == before - started["cost"] + body["refunded"]
    step = TrainingJob.objects.get(pk=job_id).current_step

    # The worker runs one task at a time (solo pool): once it has finished a training sent
    # after the cancel, it has left the cancelled one.
    later = start(alice, dataset, steps=10).json()["training_id"]
    wait_until(
        lambda: TrainingJob.objects.filter(pk=later, status="completed").exists(),
        timeout=120,
        message="the worker did not move on to the next training",
    )
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
    # The first frame comes at 5 % of the steps, when this small dataset is already half fitted:
    # the loss still falls several times over the rest (3–10× from run to run).
    assert losses[-1] < losses[0] / 3
    status = alice.get(f"/api/training/status/{job_id}").json()
    weights = alice.get(status["model_url"])
    assert weights.status_code == 200 and b"".join(weights.streaming_content)
