"""Provider webhooks: signatures verified before anything changes, webhook and poll complete once.

The fakes sign their webhooks like fal (ED25519 against a JWKS) and Replicate (Standard Webhooks
HMAC). End-to-end tests let the fake deliver to a live server; the others post a delivery through
the test client while the job waits at the fake.
"""

import json
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from credits.models import LedgerEntry
from gallery.models import Asset
from generation.models import Generation
from generation.tasks import run_generation
from tests.fakes import replicate as replicate_fake
from tests.generation.conftest import fal_configured, replicate_configured
from tests.helpers import assert_envelope, credits_remaining, generate, generate_done, wait_until

# Nothing listens there: the fake's own deliveries fail, the tests post their own.
UNREACHABLE = "http://127.0.0.1:9"


@pytest.fixture
def fal(settings):
    return fal_configured(settings, public_base_url=UNREACHABLE)


@pytest.fixture
def replicate(settings):
    fake = replicate_configured(settings, public_base_url=UNREACHABLE)
    settings.REPLICATE_WEBHOOK_SIGNING_SECRET = ""
    yield fake
    fake.stop()


@pytest.fixture
def submitted(settings):
    """Submits a generation and runs its worker step only: the job then waits at the provider."""
    from config.celery import app

    def submit(client, **payload) -> str:
        app.conf.task_always_eager = False
        try:
            response = generate(client, **payload)
            assert response.status_code == 201, response.content
            generation_id = response.json()["generation"]["id"]
            run_generation(generation_id)
        finally:
            app.conf.task_always_eager = True
        return generation_id

    yield submit
    if settings.REDIS_URL:
        import redis

        redis.Redis.from_url(settings.REDIS_URL).flushdb()


def _post(client, provider: str, generation_id, body: bytes, headers: dict):
    extra = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
    return client.generic(
        "POST", f"/api/webhooks/{provider}/{generation_id}", body, content_type="application/json", **extra
    )


def _done_by_a_worker(client, broker, *, provider: str, **payload) -> dict:
    """Submits a generation that a real worker follows (its polls wait their countdown), and
    returns it as GET shows it once it has ended."""
    response = generate(client, **payload)
    assert response.status_code == 201, response.content
    generation_id = response.json()["generation"]["id"]
    broker.start_worker(queues=["default", f"generation.{provider}"])
    terminal = ("completed", "failed", "cancelled")
    wait_until(lambda: Generation.objects.get(pk=generation_id).status in terminal, timeout=30)
    return client.get(f"/api/generate/{generation_id}").json()["generation"]


def _deliveries_for(fake, generation_id) -> list:
    """This job's webhook deliveries; a late one of an earlier test's job may land in the list."""
    return [delivery for delivery in fake.deliveries if str(generation_id) in delivery.url]


def _state(generation_id) -> tuple[str, int]:
    status = Generation.objects.values_list("status", flat=True).get(pk=generation_id)
    return status, Asset.objects.filter(generation_id=generation_id).count()


@pytest.mark.django_db
class TestFalSignatures:
    def _waiting(self, alice, fal, submitted):
        fal.queue_seconds = 60
        generation_id = submitted(alice, model="fal-ai/flux/dev")
        job = fal.only_job()
        fal.advance(job, 120)
        return generation_id, job

    def test_a_signed_webhook_completes_the_generation(self, alice, anon, fal, submitted):
        generation_id, job = self._waiting(alice, fal, submitted)
        body = fal.webhook_body(job)

        response = _post(anon, "fal", generation_id, body, fal.sign(body=body, request_id=job.id))

        assert response.status_code == 200, response.content
        assert response.json() == {"success": True, "status": "queued"}
        assert _state(generation_id) == ("completed", 1)
        shown = alice.get(f"/api/generate/{generation_id}").json()["generation"]
        assert shown["images"][0]["width"] == 1024
        assert fal.calls("GET", "/status") == []
        [submit] = fal.submits()
        assert submit.query["fal_webhook"] == [f"{UNREACHABLE}/api/webhooks/fal/{generation_id}"]

    def test_an_error_webhook_fails_the_generation_and_refunds(self, alice, anon, fal, submitted):
        before = credits_remaining(alice)
        fal.fail_next("run_error")
        generation_id, job = self._waiting(alice, fal, submitted)
        body = fal.webhook_body(job)

        response = _post(anon, "fal", generation_id, body, fal.sign(body=body, request_id=job.id))

        assert response.status_code == 200, response.content
        shown = alice.get(f"/api/generate/{generation_id}").json()["generation"]
        assert (shown["status"], shown["error_type"]) == ("failed", "validation_error")
        assert "prompt: prompt is too long" in shown["error"]
        assert credits_remaining(alice) == before

    def test_unsigned_forged_tampered_and_stale_webhooks_are_refused_and_change_nothing(
        self, alice, anon, fal, submitted
    ):
        generation_id, job = self._waiting(alice, fal, submitted)
        body = fal.webhook_body(job)
        genuine = fal.sign(body=body, request_id=job.id)
        other_key = Ed25519PrivateKey.generate()
        forged = {**genuine, "X-Fal-Webhook-Signature": other_key.sign(b"anything").hex()}
        tampered = json.dumps({**json.loads(body), "payload": {"images": [{"url": "https://evil.example/x.png"}]}})
        stale = fal.sign(body=body, request_id=job.id, timestamp=int(time.time()) - 3600)
        future = fal.sign(body=body, request_id=job.id, timestamp=int(time.time()) + 3600)

        attempts = [
            (body, {}),
            (body, {k: v for k, v in genuine.items() if k != "X-Fal-Webhook-Signature"}),
            (body, forged),
            (body, {**genuine, "X-Fal-Webhook-Signature": "not-hex"}),
            (tampered.encode(), genuine),
            (body, stale),
            (body, future),
        ]
        for payload, headers in attempts:
            response = _post(anon, "fal", generation_id, payload, headers)
            assert_envelope(response, 401, "authentication_required")
        assert _state(generation_id) == ("processing", 0)

        assert _post(anon, "fal", generation_id, body, genuine).status_code == 200
        assert _state(generation_id) == ("completed", 1)

    def test_a_replayed_webhook_is_refused(self, alice, anon, fal, submitted):
        generation_id, job = self._waiting(alice, fal, submitted)
        body = fal.webhook_body(job)
        headers = fal.sign(body=body, request_id=job.id)

        assert _post(anon, "fal", generation_id, body, headers).status_code == 200
        assert_envelope(_post(anon, "fal", generation_id, body, headers), 401, "authentication_required")
        assert _state(generation_id) == ("completed", 1)

    def test_a_genuine_webhook_for_another_job_is_refused(self, alice, anon, fal, submitted):
        first_id, first_job = self._waiting(alice, fal, submitted)
        fal.jobs.clear()
        second_id, _ = self._waiting(alice, fal, submitted)
        body = fal.webhook_body(first_job)

        response = _post(anon, "fal", second_id, body, fal.sign(body=body, request_id=first_job.id))

        assert_envelope(response, 401, "authentication_required")
        assert _state(second_id) == ("processing", 0)
        assert _state(first_id) == ("processing", 0)

    def test_the_jwks_is_fetched_once_and_cached(self, alice, anon, fal, submitted):
        generation_id, job = self._waiting(alice, fal, submitted)
        body = fal.webhook_body(job)
        stale = fal.sign(body=body, request_id=job.id, timestamp=int(time.time()) - 10)

        _post(anon, "fal", generation_id, body, {**stale, "X-Fal-Webhook-Signature": "00" * 64})
        _post(anon, "fal", generation_id, body, stale)

        assert fal.jwks_fetches == 1
        assert _state(generation_id) == ("completed", 1)

    def test_a_webhook_before_the_worker_saved_the_upstream_id_is_refused_for_a_retry(
        self, alice, anon, fal, submitted
    ):
        from config.celery import app

        app.conf.task_always_eager = False
        try:
            generation_id = generate(alice, model="fal-ai/flux/dev").json()["generation"]["id"]
        finally:
            app.conf.task_always_eager = True
        body = json.dumps({"request_id": "r1", "status": "OK", "payload": {"images": []}}).encode()

        response = _post(anon, "fal", generation_id, body, fal.sign(body=body, request_id="r1"))

        assert_envelope(response, 409, "conflict")
        assert _state(generation_id) == ("in_queue", 0)

    def test_unknown_providers_and_generations_are_not_found(self, anon, fal):
        body = b"{}"
        assert_envelope(_post(anon, "acme", "6b0f8a52-8d47-4a52-9f4e-3c1d0b8f1a11", body, {}), 404, "not_found")
        headers = fal.sign(body=body, request_id="nope")
        response = _post(anon, "fal", "6b0f8a52-8d47-4a52-9f4e-3c1d0b8f1a11", body, headers)
        assert_envelope(response, 404, "not_found")


@pytest.mark.django_db
class TestReplicateSignatures:
    def _waiting(self, alice, replicate, submitted):
        replicate.start_seconds = 60
        generation_id = submitted(alice, model="replicate/black-forest-labs/flux-schnell")
        [prediction] = replicate.predictions.values()
        prediction.created -= 120
        return generation_id, prediction

    def test_a_signed_webhook_completes_and_the_secret_is_fetched_once(self, alice, anon, replicate, submitted):
        generation_id, prediction = self._waiting(alice, replicate, submitted)
        body = json.dumps(replicate.prediction_json(prediction)).encode()

        response = _post(anon, "replicate", generation_id, body, replicate.sign(body=body, webhook_id="msg_1"))

        assert response.status_code == 200, response.content
        assert _state(generation_id) == ("completed", 1)
        assert len(replicate.calls("GET", "/v1/webhooks/default/secret")) == 1
        [create] = replicate.creates()
        assert create.body["webhook"] == f"{UNREACHABLE}/api/webhooks/replicate/{generation_id}"
        assert create.body["webhook_events_filter"] == ["start", "logs", "completed"]

    def test_forged_stale_unsigned_and_replayed_webhooks_are_refused(self, alice, anon, replicate, submitted, settings):
        settings.REPLICATE_WEBHOOK_SIGNING_SECRET = replicate_fake.SECRET
        generation_id, prediction = self._waiting(alice, replicate, submitted)
        body = json.dumps(replicate.prediction_json(prediction)).encode()
        genuine = replicate.sign(body=body, webhook_id="msg_2")
        wrong_secret = {**genuine, "webhook-signature": "v1,c2lnbmVkIHdpdGggYW5vdGhlciBrZXk="}
        stale = replicate.sign(body=body, webhook_id="msg_3", timestamp=int(time.time()) - 3600)

        for headers in ({}, wrong_secret, stale, {**genuine, "webhook-id": "msg_other"}):
            assert_envelope(_post(anon, "replicate", generation_id, body, headers), 401, "authentication_required")
        assert _state(generation_id) == ("processing", 0)

        assert _post(anon, "replicate", generation_id, body, genuine).status_code == 200
        assert_envelope(_post(anon, "replicate", generation_id, body, genuine), 401, "authentication_required")
        assert _state(generation_id) == ("completed", 1)
        assert replicate.calls("GET", "/v1/webhooks/default/secret") == []


@pytest.mark.django_db(transaction=True)
class TestDeliveredByTheFakes:
    """The fakes call our live server, as the providers would."""

    def test_fal_webhook_first_completes_once_without_a_status_poll(
        self, alice, fal, live_server, settings, memory_broker
    ):
        settings.PUBLIC_BASE_URL = live_server.url
        # With a webhook requested, the first poll comes well after the job's webhook.
        settings.ATELIER_WEBHOOK_POLL_FALLBACK_SECONDS = 1.5

        generation = _done_by_a_worker(alice, memory_broker, provider="fal", model="fal-ai/flux/dev")

        assert generation["status"] == "completed", generation
        [delivery] = _deliveries_for(fal, generation["id"])
        assert delivery.status == 200
        assert fal.calls("GET", "/status") == []
        assert Asset.objects.filter(generation_id=generation["id"]).count() == 1
        assert list(LedgerEntry.objects.filter(generation_id=generation["id"]).values_list("kind", flat=True)) == [
            "debit"
        ]

    def test_fal_poll_first_then_the_webhook_completes_once(self, alice, fal, live_server, settings):
        settings.PUBLIC_BASE_URL = live_server.url
        settings.ATELIER_WEBHOOK_POLL_FALLBACK_SECONDS = 0.0
        fal.webhook_delay = 0.5

        generation = generate_done(alice, model="fal-ai/flux/dev")

        assert generation["status"] == "completed", generation
        assert fal.calls("GET", "/status")
        wait_until(lambda: _deliveries_for(fal, generation["id"]), timeout=20)
        assert _deliveries_for(fal, generation["id"])[0].status == 200
        assert Asset.objects.filter(generation_id=generation["id"]).count() == 1
        assert list(LedgerEntry.objects.filter(generation_id=generation["id"]).values_list("kind", flat=True)) == [
            "debit"
        ]

    def test_replicate_webhooks_report_start_and_completion(
        self, alice, replicate, live_server, settings, memory_broker
    ):
        settings.PUBLIC_BASE_URL = live_server.url
        settings.ATELIER_WEBHOOK_POLL_FALLBACK_SECONDS = 1.5
        replicate.start_seconds = 0.1

        generation = _done_by_a_worker(
            alice, memory_broker, provider="replicate", model="replicate/black-forest-labs/flux-schnell"
        )

        assert generation["status"] == "completed", generation
        wait_until(lambda: len(_deliveries_for(replicate, generation["id"])) == 2, timeout=20)
        deliveries = _deliveries_for(replicate, generation["id"])
        assert [(d.event, d.status) for d in deliveries] == [("start", 200), ("completed", 200)]
        assert [r for r in replicate.requests if r.method == "GET" and r.path.startswith("/v1/predictions/")] == []
        assert Asset.objects.filter(generation_id=generation["id"]).count() == 1


@pytest.mark.django_db(transaction=True)
def test_polls_complete_the_job_when_the_webhook_never_arrives(alice, fal, settings, memory_broker):
    settings.ATELIER_WEBHOOK_POLL_FALLBACK_SECONDS = 0.3
    fal.run_seconds = 0.5

    generation = _done_by_a_worker(alice, memory_broker, provider="fal", model="fal-ai/flux/dev")

    assert generation["status"] == "completed", generation
    [submit] = fal.submits()
    assert "fal_webhook" in submit.query
    # Polled as a fallback only: every 0.3 s at the most over the job's 0.55 s, not every 0.02 s.
    assert 1 <= len(fal.calls("GET", "/status")) <= 4


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_real_workers_submit_then_follow_by_webhook(alice, fal, live_server, broker, settings):
    """Production shape: the API answers at once, a worker submits and moves on, the webhook completes."""
    from celery.contrib.testing.worker import start_worker

    settings.PUBLIC_BASE_URL = live_server.url
    settings.ATELIER_WEBHOOK_POLL_FALLBACK_SECONDS = 30.0
    fal.run_seconds = 0.5
    ids = []
    for _ in range(6):
        response = generate(alice, model="fal-ai/flux/schnell")
        assert response.status_code == 201, response.content
        assert response.json()["generation"]["status"] == "in_queue"
        ids.append(response.json()["generation"]["id"])

    with start_worker(
        broker, pool="threads", concurrency=2, perform_ping_check=False, queues=["default", "generation.fal"]
    ):
        wait_until(lambda: Generation.objects.filter(pk__in=ids, status="completed").count() == 6, timeout=60)

    assert len(fal.submits()) == 6
    assert fal.calls("GET", "/status") == []
    assert [delivery.status for id in ids for delivery in _deliveries_for(fal, id)] == [200] * 6
    assert Asset.objects.filter(generation_id__in=ids).count() == 6
