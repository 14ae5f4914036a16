"""The OpenAI images provider end to end through our HTTP API, against a fake Images API."""

import pytest

from tests.fakes.openai_images import REVISED, FakeOpenAIImages
from tests.helpers import assert_envelope, fetch_image, generate, generate_done

pytestmark = pytest.mark.django_db

SECRET = "sk-test-secret-key"


@pytest.fixture
def openai_fake(settings):
    fake = FakeOpenAIImages().start()
    settings.OPENAI_API_KEY = SECRET
    settings.OPENAI_BASE_URL = fake.base_url
    settings.ATELIER_RETRY_BACKOFF_SECONDS = 0.01
    settings.ATELIER_RETRY_BACKOFF_MAX_SECONDS = 0.02
    yield fake
    fake.stop()


def _remaining(client) -> int:
    return client.get("/api/credits").json()["credits"]["remaining"]


def _messages(generation) -> list[str]:
    return [line["message"] for line in generation["logs"]]


def test_dall_e_3_image_is_stored_with_the_upstream_parameters_and_revised_prompt(alice, openai_fake):
    generation = generate_done(
        alice, model="openai/dall-e-3", prompt="a red fox", width=1792, height=1024, quality="hd", style="natural"
    )

    assert generation["status"] == "completed", generation
    assert generation["model"] == "openai/dall-e-3"
    image = fetch_image(alice, generation["images"][0]["url"])
    assert (image.format, image.size) == ("PNG", (1792, 1024))

    [request] = openai_fake.generations
    assert request.headers["authorization"] == f"Bearer {SECRET}"
    assert request.body == {
        "model": "dall-e-3",
        "prompt": generation["final_prompt"],
        "size": "1792x1024",
        "quality": "hd",
        "style": "natural",
        "response_format": "b64_json",
        "n": 1,
    }
    revised = REVISED.format(prompt=request.body["prompt"])
    assert generation["params"]["revised_prompt"] == revised
    assert any(revised in message for message in _messages(generation))


def test_dall_e_3_uses_catalog_defaults_and_snaps_the_size_with_a_log_line(alice, openai_fake):
    generation = generate_done(alice, model="dall-e-3", width=1100, height=1700)

    assert generation["status"] == "completed", generation
    image = fetch_image(alice, generation["images"][0]["url"])
    assert image.size == (1024, 1792)
    [request] = openai_fake.generations
    assert (request.body["size"], request.body["quality"], request.body["style"]) == ("1024x1792", "standard", "vivid")
    assert any("using 1024x1792 for the requested 1100x1700" in message for message in _messages(generation))


def test_dall_e_2_batches_in_one_call_and_converts_the_format(alice, openai_fake):
    generation = generate_done(alice, model="openai/dall-e-2", width=512, height=512, num_images=3, format="webp")

    assert generation["status"] == "completed", generation
    assert len(generation["images"]) == 3
    for entry in generation["images"]:
        image = fetch_image(alice, entry["url"])
        assert (image.format, image.size) == ("WEBP", (512, 512))
    [request] = openai_fake.generations
    assert (request.body["model"], request.body["n"], request.body["size"]) == ("dall-e-2", 3, "512x512")
    assert "quality" not in request.body and "style" not in request.body
    assert "revised_prompt" not in generation["params"]


def test_gpt_image_1_asks_for_the_output_format_and_no_response_format(alice, openai_fake):
    generation = generate_done(
        alice, model="openai/gpt-image-1", width=1536, height=1024, num_images=2, quality="high", format="jpeg"
    )

    assert generation["status"] == "completed", generation
    image = fetch_image(alice, generation["images"][1]["url"])
    assert (image.format, image.size) == ("JPEG", (1536, 1024))
    [request] = openai_fake.generations
    body = request.body
    assert (body["model"], body["n"], body["size"], body["quality"]) == ("gpt-image-1", 2, "1536x1024", "high")
    assert body["output_format"] == "jpeg"
    assert "response_format" not in body


def test_url_answers_are_downloaded(alice, openai_fake):
    openai_fake.answer_with_url = True

    generation = generate_done(alice, model="openai/dall-e-2", width=256, height=256)

    assert generation["status"] == "completed", generation
    assert fetch_image(alice, generation["images"][0]["url"]).size == (256, 256)
    assert [r.method for r in openai_fake.requests] == ["POST", "GET"]


def test_url_answers_over_the_size_cap_fail_and_refund(alice, openai_fake, settings):
    openai_fake.answer_with_url = True
    settings.ATELIER_OPENAI_MAX_DOWNLOAD_BYTES = 100
    before = _remaining(alice)

    generation = generate_done(alice, model="openai/dall-e-2", width=256, height=256)

    assert generation["status"] == "failed"
    assert "larger than allowed" in generation["error"]
    assert _remaining(alice) == before


def test_content_refusal_fails_with_the_providers_message_and_refunds(alice, openai_fake):
    openai_fake.fail_next("content_policy")
    before = _remaining(alice)

    generation = generate_done(alice, model="openai/dall-e-3")

    assert generation["status"] == "failed"
    assert generation["error_type"] == "validation_error"
    assert "rejected as a result of our safety system" in generation["error"]
    assert generation["images"] == []
    assert len(openai_fake.generations) == 1
    assert _remaining(alice) == before


def test_invalid_size_fails_with_the_providers_message_and_refunds(alice, openai_fake):
    openai_fake.fail_next("invalid_size")
    before = _remaining(alice)

    generation = generate_done(alice, model="openai/dall-e-3")

    assert generation["status"] == "failed"
    assert generation["error_type"] == "validation_error"
    assert "is not one of" in generation["error"]
    assert _remaining(alice) == before


def test_rejected_credentials_fail_and_refund_without_leaking_the_key(alice, openai_fake):
    openai_fake.fail_next("401")
    before = _remaining(alice)

    generation = generate_done(alice, model="openai/dall-e-3")

    assert generation["status"] == "failed"
    assert generation["error_type"] == "provider_error"
    assert "rejected our credentials" in generation["error"]
    assert SECRET not in str(generation)
    assert len(openai_fake.generations) == 1
    assert _remaining(alice) == before


def test_exhausted_quota_is_not_retried_and_refunds(alice, openai_fake):
    openai_fake.fail_next("quota")
    before = _remaining(alice)

    generation = generate_done(alice, model="openai/dall-e-3")

    assert generation["status"] == "failed"
    assert generation["error_type"] == "provider_error"
    assert "exceeded your current quota" in generation["error"]
    assert len(openai_fake.generations) == 1
    assert _remaining(alice) == before


@pytest.mark.parametrize("kind", ["429", "500"])
def test_rate_limit_and_server_errors_are_retried_then_succeed(alice, openai_fake, kind):
    openai_fake.fail_next(kind)

    generation = generate_done(alice, model="openai/dall-e-3")

    assert generation["status"] == "completed", generation
    assert len(openai_fake.generations) == 2
    assert any("retrying" in message for message in _messages(generation))


def test_garbage_json_fails_and_refunds(alice, openai_fake):
    openai_fake.fail_next("garbage")
    before = _remaining(alice)

    generation = generate_done(alice, model="openai/dall-e-3")

    assert generation["status"] == "failed"
    assert generation["error_type"] == "provider_error"
    assert "could not be read" in generation["error"]
    assert _remaining(alice) == before


def test_unavailable_without_a_key(alice, openai_fake, settings):
    settings.OPENAI_API_KEY = ""
    before = _remaining(alice)

    response = generate(alice, model="openai/dall-e-3")

    body = assert_envelope(response, 503, "provider_unavailable")
    assert "openai" in body["error"]
    assert openai_fake.requests == []
    assert _remaining(alice) == before


def test_bob_cannot_see_alices_openai_generation(alice, bob, openai_fake):
    generation = generate_done(alice, model="openai/dall-e-2", width=256, height=256)
    assert_envelope(bob.get(f"/api/generate/{generation['id']}"), 404, "not_found")
