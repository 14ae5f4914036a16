"""The Hugging Face provider end to end through our HTTP API, against a fake inference endpoint."""

import pytest

from tests.fakes.huggingface import FakeHuggingFace
from tests.helpers import assert_envelope, credits_remaining, fetch_image, generate, generate_done

pytestmark = pytest.mark.django_db

FLUX = "black-forest-labs/FLUX.1-schnell"
SDXL = "stabilityai/stable-diffusion-xl-base-1.0"


@pytest.fixture
def hf(settings):
    fake = FakeHuggingFace(estimated_time=0.05).start()
    settings.HF_TOKEN = "hf_test_secret_token"
    settings.HF_BASE_URL = f"{fake.url}/hf"
    settings.ATELIER_HF_LOADING_WAIT_SECONDS = 5.0
    settings.ATELIER_RETRY_BACKOFF_SECONDS = 0.01
    settings.ATELIER_RETRY_BACKOFF_MAX_SECONDS = 0.02
    yield fake
    fake.stop()


@pytest.mark.parametrize("model", [FLUX, "flux-schnell"])
def test_generates_an_image_with_the_upstream_parameters(alice, hf, model):
    generation = generate_done(alice, model=model, prompt="a red fox", width=512, height=384, seed=7)

    assert generation["status"] == "completed", generation
    assert generation["model"] == FLUX
    image = fetch_image(alice, generation["images"][0]["url"])
    assert (image.format, image.size) == ("PNG", (512, 384))
    assert generation["images"][0]["seed"] == 7

    [request] = hf.requests
    assert request.path == f"/hf/models/{FLUX}"
    assert request.headers["authorization"] == "Bearer hf_test_secret_token"
    assert request.body["inputs"] == "a red fox"
    # The catalog's default of 4 steps applies when the request does not say.
    assert request.parameters == {"width": 512, "height": 384, "seed": 7, "num_inference_steps": 4}


def test_negative_prompt_guidance_and_steps_reach_the_model_and_format_is_converted(alice, hf):
    generation = generate_done(
        alice,
        model=SDXL,
        prompt="castle on a hill",
        negative_prompt="blurry",
        width=768,
        height=512,
        num_inference_steps=20,
        guidance_scale=6.5,
        seed=3,
        format="webp",
    )

    assert generation["status"] == "completed", generation
    image = fetch_image(alice, generation["images"][0]["url"])
    assert (image.format, image.size) == ("WEBP", (768, 512))
    assert hf.requests[0].path == f"/hf/models/{SDXL}"
    assert hf.requests[0].parameters == {
        "negative_prompt": "blurry",
        "width": 768,
        "height": 512,
        "num_inference_steps": 20,
        "guidance_scale": 6.5,
        "seed": 3,
    }


def test_cold_start_is_waited_for_then_succeeds(alice, hf):
    hf.fail_next("loading", times=2)

    generation = generate_done(alice, model="flux-schnell", width=256, height=256)

    assert generation["status"] == "completed", generation
    assert len(hf.requests) == 3
    messages = [line["message"] for line in generation["logs"]]
    assert sum("Model is loading" in message for message in messages) == 2


def test_model_still_loading_past_the_deadline_fails_with_gpu_busy_and_refunds(alice, hf, settings):
    settings.ATELIER_HF_LOADING_WAIT_SECONDS = 0.3
    hf.fail_next("loading", times=100)
    before = credits_remaining(alice)

    generation = generate_done(alice, model="flux-schnell", width=256, height=256)

    assert generation["status"] == "failed"
    assert "GPU resources busy" in generation["error"]
    assert generation["error_type"] == "provider_unavailable"
    assert generation["images"] == []
    assert 2 <= len(hf.requests) < 100
    assert credits_remaining(alice) == before


@pytest.mark.parametrize("status", ["401", "403"])
def test_rejected_credentials_fail_and_refund_without_leaking_the_token(alice, hf, status):
    hf.fail_next(status)
    before = credits_remaining(alice)

    generation = generate_done(alice, model="flux-schnell", width=256, height=256)

    assert generation["status"] == "failed"
    assert generation["error_type"] == "provider_error"
    assert "rejected our credentials" in generation["error"]
    assert "hf_test_secret_token" not in str(generation)
    assert len(hf.requests) == 1
    assert credits_remaining(alice) == before


@pytest.mark.parametrize("status", ["429", "500"])
def test_rate_limit_and_server_errors_are_retried(alice, hf, status):
    hf.fail_next(status)

    generation = generate_done(alice, model="flux-schnell", width=256, height=256)

    assert generation["status"] == "completed", generation
    assert len(hf.requests) == 2
    assert any("retrying" in line["message"] for line in generation["logs"])


def test_server_errors_past_the_attempt_limit_fail_and_refund(alice, hf, settings):
    hf.fail_next("500", times=settings.ATELIER_MAX_ATTEMPTS)
    before = credits_remaining(alice)

    generation = generate_done(alice, model="flux-schnell", width=256, height=256)

    assert generation["status"] == "failed"
    assert generation["error_type"] == "provider_unavailable"
    assert "gave up after" in generation["error"]
    assert len(hf.requests) == settings.ATELIER_MAX_ATTEMPTS
    assert credits_remaining(alice) == before


def test_invalid_input_fails_with_the_providers_message_and_refunds(alice, hf):
    hf.fail_next("422")
    before = credits_remaining(alice)

    generation = generate_done(alice, model="flux-schnell", width=256, height=256)

    assert generation["status"] == "failed"
    assert generation["error_type"] == "validation_error"
    assert "`width` must be a multiple of 8" in generation["error"]
    assert len(hf.requests) == 1
    assert credits_remaining(alice) == before


def test_an_answer_that_is_not_an_image_fails_and_refunds(alice, hf):
    hf.fail_next("garbage")
    before = credits_remaining(alice)

    generation = generate_done(alice, model="flux-schnell", width=256, height=256)

    assert generation["status"] == "failed"
    assert generation["error_type"] == "provider_error"
    assert "not an image" in generation["error"]
    assert credits_remaining(alice) == before


def test_unreachable_endpoint_is_retried_then_fails_and_refunds(alice, hf, settings):
    settings.HF_BASE_URL = "http://127.0.0.1:9"  # the discard port: nothing listens
    before = credits_remaining(alice)

    generation = generate_done(alice, model="flux-schnell", width=256, height=256)

    assert generation["status"] == "failed"
    assert generation["error_type"] == "provider_unavailable"
    assert credits_remaining(alice) == before


def test_unavailable_without_a_token(alice, hf, settings):
    settings.HF_TOKEN = ""
    before = credits_remaining(alice)

    response = generate(alice, model="flux-schnell", width=256, height=256)

    body = assert_envelope(response, 503, "provider_unavailable")
    assert "huggingface" in body["error"]
    assert hf.requests == []
    assert credits_remaining(alice) == before


def test_bob_cannot_see_alices_hugging_face_generation(alice, bob, hf):
    generation = generate_done(alice, model="flux-schnell", width=256, height=256)
    assert_envelope(bob.get(f"/api/generate/{generation['id']}"), 404, "not_found")


def test_bad_request_fails_with_the_providers_message_and_refunds(alice, hf):
    hf.fail_next("400")
    before = credits_remaining(alice)

    generation = generate_done(alice, model="flux-schnell", width=256, height=256)

    assert generation["status"] == "failed"
    assert generation["error_type"] == "validation_error"
    assert "Hugging Face refused the request" in generation["error"]
    assert credits_remaining(alice) == before


class TestSynchronousSeedRoute:
    """Seed 000's synchronous /api/image/generate: the run happens on commit, inside the request."""

    pytestmark = pytest.mark.django_db(transaction=True)

    def test_past_the_loading_deadline_is_a_503_gpu_busy_and_refunds(self, alice, hf, settings):
        settings.ATELIER_HF_LOADING_WAIT_SECONDS = 0.2
        hf.fail_next("loading", times=100)
        before = credits_remaining(alice)

        response = alice.post("/api/image/generate", {"prompt": "a cat", "model": "flux-schnell"}, format="json")

        body = assert_envelope(response, 503, "provider_unavailable")
        assert body["error"] == "GPU resources busy"
        assert "still loading" in body["details"]
        assert credits_remaining(alice) == before

    def test_waits_through_a_cold_start(self, alice, hf):
        hf.fail_next("loading")

        response = alice.post("/api/image/generate", {"prompt": "a cat", "model": "flux-schnell"}, format="json")

        assert response.status_code == 200, response.content
        assert response.json()["image"]
        assert len(hf.requests) == 2


def test_a_slow_answer_times_out_and_is_retried(alice, hf, settings):
    settings.ATELIER_HF_TIMEOUT_SECONDS = 0.3
    hf.fail_next("slow")

    generation = generate_done(alice, model="flux-schnell", width=256, height=256)

    assert generation["status"] == "completed", generation
    assert len(hf.requests) == 2
    assert any("did not answer in time; retrying" in line["message"] for line in generation["logs"])
