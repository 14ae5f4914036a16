"""fal and Replicate trainings against fakes speaking their protocols, driven by their SDKs.

The training's messages are held at the broker; the test runs the worker's steps itself (the
submit, then one short poll at a time), as a worker would, so no worker ever waits on a provider.
Between polls the test moves the fake's timeline on rather than waiting for it.
"""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from tests.fakes.replicate_training import FakeReplicateTraining
from tests.generation.conftest import fal_configured
from tests.helpers import assert_envelope, credits_remaining
from tests.training.factories import image_files, start, upload
from training.tasks import poll_training, run_training

pytestmark = pytest.mark.django_db


@pytest.fixture
def fal(settings, held_tasks):
    fake = fal_configured(settings)
    settings.ATELIER_TRAINING_ALLOWANCE_ENABLED = False
    return fake


@pytest.fixture
def replicate(settings, held_tasks):
    from tests.fakes.replicate import TOKEN
    from tests.fakes.replicate_training import DESTINATION

    fake = FakeReplicateTraining().start()
    settings.REPLICATE_API_TOKEN = TOKEN
    settings.REPLICATE_BASE_URL = fake.url
    settings.ATELIER_REPLICATE_TRAINING_DESTINATION = DESTINATION
    settings.ATELIER_TRAINING_ALLOWANCE_ENABLED = False
    settings.PUBLIC_BASE_URL = ""
    yield fake
    fake.stop()


def _submitted(client, provider: str, **body) -> str:
    response = start(client, upload(client, image_files(3)), provider=provider, steps=200, **body)
    assert response.status_code == 201, response.content
    job_id = response.json()["training_id"]
    run_training(job_id)
    return job_id


def _status(client, job_id) -> dict:
    return client.get(f"/api/training/status/{job_id}").json()


def _follow(client, job_id, fake) -> dict:
    """Polls as the worker would, the fake's runs 50 ms further on at each poll: queued, then
    running, then ended within a few polls on any machine."""
    for _ in range(20):
        poll_training(job_id)
        status = _status(client, job_id)
        if status["status"] in ("completed", "failed", "cancelled"):
            return status
        _advance(fake, 0.05)
    raise AssertionError(f"the training did not end: {status}")


def _advance(fake, seconds: float) -> None:
    """Moves every run of the fake on by ``seconds``, as if it had started that much earlier."""
    if isinstance(fake, FakeReplicateTraining):
        for training in fake.trainings.values():
            training.created -= seconds
    else:
        for job in fake.jobs.values():
            fake.advance(job, seconds)


def _download(client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content)


def test_fal_training_completes_through_the_queue_and_its_files_are_ours(alice, fal):
    job_id = _submitted(alice, "fal")
    [submit] = fal.submits()
    assert submit.path == "/fal-ai/flux-lora-fast-training"
    assert submit.body["trigger_word"] == "filmlook" and submit.body["steps"] == 200
    assert submit.body["images_data_url"].startswith("data:application/zip;base64,")
    assert _status(alice, job_id)["status"] == "training"
    status = _follow(alice, job_id, fal)
    assert status["status"] == "completed", status
    assert any(line.startswith("fal: step 4/4") for line in status["logs"])
    weights = _download(alice, status["model_url"])
    from safetensors.numpy import load

    assert load(weights)
    assert b"filmlook" in _download(alice, status["config_url"])
    [lora] = alice.get("/api/loras").json()["loras"]
    assert lora["provider"] == "fal"


def test_a_fal_lora_goes_to_fals_lora_model_as_fals_url(alice, fal):
    job_id = _submitted(alice, "fal")
    lora_id = _follow(alice, job_id, fal)["lora_id"]
    from training.models import LoRA

    reference = LoRA.objects.get(pk=lora_id).provider_reference
    assert reference.startswith(fal.url)
    response = alice.post(
        "/api/generate",
        {"model": "fal-ai/flux-lora", "prompt": "a portrait", "loras": [{"path": lora_id, "scale": 0.7}]},
        format="json",
    )
    assert response.status_code == 201, response.content
    from generation.models import Generation

    generation = Generation.objects.get(pk=response.json()["generation"]["id"])
    assert generation.params["loras"] == [{"path": reference, "scale": 0.7}]
    assert generation.prompt.startswith("filmlook ")


def test_a_local_lora_on_a_fal_model_is_a_400(alice, fal):
    status = _status(alice, start(alice, upload(alice, image_files(3)), steps=20).json()["training_id"])
    run_training(status["training_id"])
    lora_id = _status(alice, status["training_id"])["lora_id"]
    response = alice.post(
        "/api/generate",
        {"model": "fal-ai/flux-lora", "prompt": "a portrait", "loras": [{"path": lora_id}]},
        format="json",
    )
    assert "local renderer" in assert_envelope(response, 400)["details"]["loras"][0]


def test_a_fal_failure_fails_the_training_and_refunds_everything(alice, fal):
    before = credits_remaining(alice)
    fal.fail_next("run_error")
    job_id = _submitted(alice, "fal")
    status = _follow(alice, job_id, fal)
    assert status["status"] == "failed"
    assert "fal failed the training" in status["error"]
    assert credits_remaining(alice) == before


def test_a_fal_submit_refused_fails_with_a_refund(alice, fal):
    before = credits_remaining(alice)
    fal.fail_next("401")
    job_id = _submitted(alice, "fal")
    status = _status(alice, job_id)
    assert status["status"] == "failed" and "credentials" in status["error"]
    assert credits_remaining(alice) == before


def test_cancelling_a_fal_training_cancels_it_at_fal_and_refunds(alice, fal):
    fal.queue_seconds = 30
    before = credits_remaining(alice)
    job_id = _submitted(alice, "fal")
    response = alice.delete(f"/api/training/{job_id}")
    assert response.status_code == 200, response.content
    assert fal.calls("PUT", "/cancel")
    assert credits_remaining(alice) == before
    poll_training(job_id)
    assert _status(alice, job_id)["status"] == "cancelled"


def test_a_signed_fal_webhook_completes_the_training_and_a_forged_one_is_refused(alice, fal):
    fal.run_seconds = 0.0
    job_id = _submitted(alice, "fal")
    job = fal.only_job()
    fal.advance(job, 5)
    body = fal.webhook_body(job)
    url = f"/api/training/webhooks/fal/{job_id}"
    forged = alice.post(
        url, body, content_type="application/json", **_headers(fal.sign(body=b"other", request_id=job.id))
    )
    assert forged.status_code == 401
    assert _status(alice, job_id)["status"] == "training"
    response = alice.post(
        url, body, content_type="application/json", **_headers(fal.sign(body=body, request_id=job.id))
    )
    assert response.status_code == 200, response.content
    assert _status(alice, job_id)["status"] == "completed"
    again = alice.post(url, body, content_type="application/json", **_headers(fal.sign(body=body, request_id=job.id)))
    assert again.status_code == 200
    assert len(alice.get("/api/loras").json()["loras"]) == 1


def _headers(headers: dict) -> dict:
    return {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}


def test_replicate_training_goes_to_the_destination_and_completes(alice, replicate):
    job_id = _submitted(alice, "replicate")
    [create] = replicate.calls("POST", "/trainings")
    assert create.path.startswith("/v1/models/ostris/flux-dev-lora-trainer/versions/")
    assert create.body["destination"] == "atelier-test/loras"
    assert create.body["input"]["trigger_word"] == "filmlook"
    status = _follow(alice, job_id, replicate)
    assert status["status"] == "completed", (status["error"], status["logs"])
    assert any("4/4" in line for line in status["logs"])
    assert _download(alice, status["model_url"])
    from training.models import LoRA

    assert LoRA.objects.get(pk=status["lora_id"]).provider_reference.startswith("atelier-test/loras:")


def test_a_replicate_failure_refunds(alice, replicate):
    before = credits_remaining(alice)
    replicate.fail_next("failed")
    status = _follow(alice, _submitted(alice, "replicate"), replicate)
    assert status["status"] == "failed" and "loss became NaN" in status["error"]
    assert credits_remaining(alice) == before


def test_cancelling_a_replicate_training_cancels_it_there(alice, replicate):
    replicate.start_seconds = 30
    before = credits_remaining(alice)
    job_id = _submitted(alice, "replicate")
    assert alice.delete(f"/api/training/{job_id}").status_code == 200
    assert replicate.calls("POST", "/cancel")
    assert credits_remaining(alice) == before


def test_a_verified_replicate_webhook_completes_the_training(alice, replicate, settings):
    from tests.fakes.replicate import SECRET

    settings.REPLICATE_WEBHOOK_SIGNING_SECRET = SECRET
    replicate.run_seconds = 0.0
    job_id = _submitted(alice, "replicate")
    _advance(replicate, 5)
    training = next(iter(replicate.trainings.values()))
    import json

    body = json.dumps(replicate.training_json(training)).encode()
    url = f"/api/training/webhooks/replicate/{job_id}"
    bad = alice.post(url, body, content_type="application/json", **_headers(replicate.sign(body=b"x", webhook_id="m1")))
    assert bad.status_code == 401
    good = alice.post(
        url, body, content_type="application/json", **_headers(replicate.sign(body=body, webhook_id="m2"))
    )
    assert good.status_code == 200, good.content
    assert _status(alice, job_id)["status"] == "completed"


def test_replicate_without_a_destination_is_unavailable(alice, settings):
    settings.REPLICATE_API_TOKEN = "r8_x"
    settings.ATELIER_REPLICATE_TRAINING_DESTINATION = ""
    response = start(alice, upload(alice, image_files(3)), provider="replicate")
    assert_envelope(response, 503)
    assert response.json()["details"] == "Set ATELIER_REPLICATE_TRAINING_DESTINATION to enable replicate training."


def test_a_large_dataset_goes_to_fal_as_a_signed_expiring_link(alice, anon, fal, settings):
    settings.PUBLIC_BASE_URL = "http://testserver"
    settings.ATELIER_TRAINING_INLINE_MAX_BYTES = 0
    job_id = _submitted(alice, "fal")
    [submit] = fal.submits()
    assert submit.query["fal_webhook"] == [f"http://testserver/api/training/webhooks/fal/{job_id}"]
    link = submit.body["images_data_url"]
    assert link.startswith("http://testserver/api/training/datasets/")
    path = link.removeprefix("http://testserver")
    response = anon.get(path)
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert anon.get(path[:-3] + "xyz").status_code == 404
    settings.ATELIER_TRAINING_DATASET_LINK_SECONDS = -1
    assert anon.get(path).status_code == 404


def test_a_remote_training_nobody_polls_is_polled_again_then_given_up_with_a_refund(alice, fal, settings):
    from django.test import TestCase

    from training.tasks import recover_stuck_trainings

    fal.queue_seconds = 30
    before = credits_remaining(alice)
    job_id = _submitted(alice, "fal")
    submitted = timezone.now()
    silent = timedelta(seconds=settings.ATELIER_TRAINING_STALE_SECONDS + 1)
    with time_machine.travel(submitted + silent, tick=False), TestCase.captureOnCommitCallbacks(execute=True):
        assert recover_stuck_trainings()["polled"] == 1
    past_deadline = submitted + timedelta(seconds=settings.ATELIER_TRAINING_REMOTE_DEADLINE_SECONDS) + silent
    with time_machine.travel(past_deadline, tick=False), TestCase.captureOnCommitCallbacks(execute=True):
        assert recover_stuck_trainings()["failed"] == 1
    status = _status(alice, job_id)
    assert status["status"] == "failed" and "did not finish in time" in status["error"]
    assert fal.calls("PUT", "/cancel")
    assert credits_remaining(alice) == before


def test_cancel_still_cancels_and_refunds_when_the_provider_cannot_be_reached(alice, replicate):
    replicate.start_seconds = 30
    before = credits_remaining(alice)
    job_id = _submitted(alice, "replicate")
    replicate.stop()
    response = alice.delete(f"/api/training/{job_id}")
    assert response.status_code == 200, response.content
    assert _status(alice, job_id)["status"] == "cancelled"
    assert credits_remaining(alice) == before
