"""The Replicate provider end to end through our HTTP API, against a fake predictions API."""

import logging

import pytest

from catalog.models import AIModel
from generation.tasks import poll_generation, run_generation
from tests.fakes.replicate import TOKEN
from tests.generation.conftest import replicate_configured
from tests.helpers import (
    assert_envelope,
    credits_remaining,
    fetch_image,
    generate,
    generate_done,
    generation_of,
    log_messages,
)

pytestmark = pytest.mark.django_db

VERSION = "5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa"


@pytest.fixture
def replicate(settings):
    fake = replicate_configured(settings)
    yield fake
    fake.stop()


def test_a_prediction_by_model_is_created_followed_and_stored(alice, replicate):
    generation = generate_done(
        alice,
        model="replicate/black-forest-labs/flux-schnell",
        prompt="a lighthouse",
        width=1024,
        height=576,
        num_images=2,
        seed=11,
        enable_safety_checker=False,
        format="webp",
    )

    assert generation["status"] == "completed", generation
    assert generation["progress"] == 100
    assert len(generation["images"]) == 2
    for entry in generation["images"]:
        image = fetch_image(alice, entry["url"])
        assert (image.format, image.size) == ("WEBP", (1024, 576))
    [create] = replicate.creates()
    assert create.path == "/v1/models/black-forest-labs/flux-schnell/predictions"
    assert create.headers["authorization"] == f"Bearer {TOKEN}"
    assert create.body == {
        "input": {
            "prompt": generation["final_prompt"],
            "seed": 11,
            "num_outputs": 2,
            "aspect_ratio": "16:9",
            "output_format": "webp",
            "num_inference_steps": 4,
            "disable_safety_checker": True,
        }
    }
    assert replicate.calls("GET")
    assert any("4/4" in message for message in log_messages(generation))


def test_a_prediction_by_version_uses_the_versions_route(alice, replicate):
    AIModel.objects.filter(pk="replicate/stability-ai/sdxl").update(provider_model=f"stability-ai/sdxl:{VERSION}")

    generation = generate_done(alice, model="replicate/stability-ai/sdxl", negative_prompt="blurry", width=768)

    assert generation["status"] == "completed", generation
    assert fetch_image(alice, generation["images"][0]["url"]).size == (768, 1024)
    [create] = replicate.creates()
    assert create.path == "/v1/predictions"
    assert create.body["version"] == VERSION
    assert create.body["input"]["negative_prompt"] == "blurry"
    assert (create.body["input"]["width"], create.body["input"]["height"]) == (768, 1024)
    assert create.body["input"]["guidance_scale"] == 7.5


def test_starting_then_processing_with_progress_then_succeeded_through_the_tasks(alice, replicate, held_tasks):
    replicate.start_seconds = 60
    replicate.run_seconds = 60
    generation_id = generate(alice, model="replicate/black-forest-labs/flux-schnell").json()["generation"]["id"]

    run_generation(generation_id)
    poll_generation(generation_id, 0)
    shown = generation_of(alice, generation_id)
    assert (shown["status"], shown["progress"]) == ("processing", 0)

    [prediction] = replicate.predictions.values()
    prediction.created -= 60 + 30
    poll_generation(generation_id, 1)
    shown = generation_of(alice, generation_id)
    assert shown["status"] == "processing"
    assert shown["progress"] == 50
    assert any("2/4" in message for message in log_messages(shown))

    prediction.created -= 60
    poll_generation(generation_id, 2)
    shown = generation_of(alice, generation_id)
    assert shown["status"] == "completed", shown
    assert len(shown["images"]) == 1
    assert sum("2/4" in message for message in log_messages(shown)) == 1


def test_cancel_cancels_the_prediction_upstream_and_refunds(alice, replicate, held_tasks):
    replicate.start_seconds = 60
    before = credits_remaining(alice)
    generation_id = generate(alice, model="replicate/black-forest-labs/flux-schnell").json()["generation"]["id"]
    run_generation(generation_id)

    assert alice.delete(f"/api/generate/{generation_id}").status_code == 200

    [prediction] = replicate.predictions.values()
    assert [call.path for call in replicate.calls("POST", "/cancel")] == [f"/v1/predictions/{prediction.id}/cancel"]
    assert replicate.prediction_json(prediction)["status"] == "canceled"
    poll_generation(generation_id, 0)
    assert generation_of(alice, generation_id)["status"] == "cancelled"
    assert credits_remaining(alice) == before


def test_a_failed_prediction_fails_with_its_error_and_refunds(alice, replicate):
    replicate.fail_next("failed")
    before = credits_remaining(alice)

    generation = generate_done(alice, model="replicate/black-forest-labs/flux-schnell")

    assert generation["status"] == "failed"
    assert generation["error_type"] == "provider_error"
    assert "CUDA out of memory" in generation["error"]
    assert credits_remaining(alice) == before


def test_refused_input_fails_as_bad_input_with_replicates_detail(alice, replicate):
    replicate.fail_next("422")
    before = credits_remaining(alice)

    generation = generate_done(alice, model="replicate/black-forest-labs/flux-schnell")

    assert generation["status"] == "failed"
    assert generation["error_type"] == "validation_error"
    assert "input.num_outputs: Must be less than or equal to 4" in generation["error"]
    assert "Must be less than or equal to 4" in generation["error_details"]["provider"]
    assert credits_remaining(alice) == before


@pytest.mark.parametrize("kind", ["401", "403"])
def test_rejected_credentials_fail_refund_and_are_logged_without_the_token(alice, replicate, caplog, kind):
    replicate.fail_next(kind)
    before = credits_remaining(alice)

    with caplog.at_level(logging.ERROR, logger="generation.providers.replicate"):
        generation = generate_done(alice, model="replicate/black-forest-labs/flux-schnell")

    assert generation["status"] == "failed"
    assert (generation["error_type"], generation["error"]) == (
        "provider_error",
        "The provider rejected our credentials",
    )
    assert "rejected our credentials" in caplog.text
    assert TOKEN not in caplog.text and TOKEN not in str(generation)
    assert credits_remaining(alice) == before


@pytest.mark.parametrize("kind", ["429", "500"])
def test_rate_limits_and_server_errors_are_retried_then_succeed(alice, replicate, kind):
    replicate.fail_next(kind)

    generation = generate_done(alice, model="replicate/black-forest-labs/flux-schnell")

    assert generation["status"] == "completed", generation
    assert len(replicate.creates()) == 2
    assert any("retrying" in message for message in log_messages(generation))


def test_server_errors_that_last_fail_as_unavailable_and_refund(alice, replicate):
    replicate.fail_next("500", times=10)
    before = credits_remaining(alice)

    generation = generate_done(alice, model="replicate/black-forest-labs/flux-schnell")

    assert generation["status"] == "failed"
    assert generation["error_type"] == "provider_unavailable"
    assert len(replicate.creates()) == 3
    assert credits_remaining(alice) == before


def test_a_create_slower_than_the_timeout_is_retried(alice, replicate, settings):
    settings.ATELIER_REPLICATE_TIMEOUT_SECONDS = 0.3
    replicate.fail_next("slow")

    generation = generate_done(alice, model="replicate/black-forest-labs/flux-schnell")

    assert generation["status"] == "completed", generation
    assert len(replicate.creates()) == 2


def test_a_malformed_answer_fails_with_a_clear_error_and_refunds(alice, replicate):
    replicate.fail_next("garbage")
    before = credits_remaining(alice)

    generation = generate_done(alice, model="replicate/black-forest-labs/flux-schnell")

    assert generation["status"] == "failed"
    assert generation["error"] == "Replicate returned an answer that could not be read"
    assert credits_remaining(alice) == before


def test_an_output_url_that_404s_fails_and_refunds(alice, replicate):
    replicate.fail_next("image_404")
    before = credits_remaining(alice)

    generation = generate_done(alice, model="replicate/black-forest-labs/flux-schnell")

    assert generation["status"] == "failed"
    assert "HTTP 404" in generation["error"]
    assert credits_remaining(alice) == before


def test_unavailable_without_a_token(alice, replicate, settings):
    settings.REPLICATE_API_TOKEN = ""

    response = generate(alice, model="replicate/black-forest-labs/flux-schnell")

    assert_envelope(response, 503, "provider_unavailable")
    assert replicate.requests == []


def test_bob_cannot_see_alices_replicate_generation(alice, bob, replicate):
    generation = generate_done(alice, model="replicate/black-forest-labs/flux-schnell")
    assert_envelope(bob.get(f"/api/generate/{generation['id']}"), 404, "not_found")


def test_replicate_models_are_listed_as_available_only_with_a_token(alice, replicate, settings):
    listed = {model["id"]: model["available"] for model in alice.get("/api/models").json()["models"]}
    assert listed["replicate/black-forest-labs/flux-schnell"] is True

    settings.REPLICATE_API_TOKEN = ""
    listed = {model["id"]: model["available"] for model in alice.get("/api/models").json()["models"]}
    assert listed["replicate/black-forest-labs/flux-schnell"] is False
