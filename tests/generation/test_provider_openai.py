"""The OpenAI images provider end to end through our HTTP API, against a fake Images API."""

import dataclasses
import io

import pytest
from PIL import Image

from core.errors import ValidationFailed
from generation.providers import ProviderJob, Reporter
from generation.providers.openai_images import OpenAIImagesProvider
from tests.fakes.openai_images import REVISED, FakeOpenAIImages
from tests.helpers import assert_envelope, credits_remaining, fetch_image, generate, generate_done, log_messages

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
    assert any(revised in message for message in log_messages(generation))


def test_dall_e_3_uses_catalog_defaults_and_snaps_the_size_with_a_log_line(alice, openai_fake):
    generation = generate_done(alice, model="dall-e-3", width=1100, height=1700)

    assert generation["status"] == "completed", generation
    image = fetch_image(alice, generation["images"][0]["url"])
    assert image.size == (1024, 1792)
    [request] = openai_fake.generations
    assert (request.body["size"], request.body["quality"], request.body["style"]) == ("1024x1792", "standard", "vivid")
    assert any("using 1024x1792 for the requested 1100x1700" in message for message in log_messages(generation))


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
    before = credits_remaining(alice)

    generation = generate_done(alice, model="openai/dall-e-2", width=256, height=256)

    assert generation["status"] == "failed"
    assert "larger than allowed" in generation["error"]
    assert credits_remaining(alice) == before


def test_content_refusal_fails_with_the_providers_message_and_refunds(alice, openai_fake):
    openai_fake.fail_next("content_policy")
    before = credits_remaining(alice)

    generation = generate_done(alice, model="openai/dall-e-3")

    assert generation["status"] == "failed"
    assert generation["error_type"] == "validation_error"
    assert "rejected as a result of our safety system" in generation["error"]
    assert generation["images"] == []
    assert len(openai_fake.generations) == 1
    assert credits_remaining(alice) == before


def test_invalid_size_fails_with_the_providers_message_and_refunds(alice, openai_fake):
    openai_fake.fail_next("invalid_size")
    before = credits_remaining(alice)

    generation = generate_done(alice, model="openai/dall-e-3")

    assert generation["status"] == "failed"
    assert generation["error_type"] == "validation_error"
    assert "is not one of" in generation["error"]
    assert credits_remaining(alice) == before


def test_rejected_credentials_fail_and_refund_without_leaking_the_key(alice, openai_fake):
    openai_fake.fail_next("401")
    before = credits_remaining(alice)

    generation = generate_done(alice, model="openai/dall-e-3")

    assert generation["status"] == "failed"
    assert generation["error_type"] == "provider_error"
    assert "rejected our credentials" in generation["error"]
    assert SECRET not in str(generation)
    assert len(openai_fake.generations) == 1
    assert credits_remaining(alice) == before


def test_exhausted_quota_is_not_retried_and_refunds(alice, openai_fake):
    openai_fake.fail_next("quota")
    before = credits_remaining(alice)

    generation = generate_done(alice, model="openai/dall-e-3")

    assert generation["status"] == "failed"
    assert generation["error_type"] == "provider_error"
    assert "exceeded your current quota" in generation["error"]
    assert len(openai_fake.generations) == 1
    assert credits_remaining(alice) == before


@pytest.mark.parametrize("kind", ["429", "500"])
def test_rate_limit_and_server_errors_are_retried_then_succeed(alice, openai_fake, kind):
    openai_fake.fail_next(kind)

    generation = generate_done(alice, model="openai/dall-e-3")

    assert generation["status"] == "completed", generation
    assert len(openai_fake.generations) == 2
    assert any("retrying" in message for message in log_messages(generation))


def test_garbage_json_fails_and_refunds(alice, openai_fake):
    openai_fake.fail_next("garbage")
    before = credits_remaining(alice)

    generation = generate_done(alice, model="openai/dall-e-3")

    assert generation["status"] == "failed"
    assert generation["error_type"] == "provider_error"
    assert "could not be read" in generation["error"]
    assert credits_remaining(alice) == before


def test_unavailable_without_a_key(alice, openai_fake, settings):
    settings.OPENAI_API_KEY = ""
    before = credits_remaining(alice)

    response = generate(alice, model="openai/dall-e-3")

    body = assert_envelope(response, 503, "provider_unavailable")
    assert "openai" in body["error"]
    assert openai_fake.requests == []
    assert credits_remaining(alice) == before


def test_bob_cannot_see_alices_openai_generation(alice, bob, openai_fake):
    generation = generate_done(alice, model="openai/dall-e-2", width=256, height=256)
    assert_envelope(bob.get(f"/api/generate/{generation['id']}"), 404, "not_found")


# Edits (inpainting) and variations, at the provider: the upload pipeline hands the provider
# normalised PNG bytes in ProviderJob.image and .mask.


def _png(size: tuple[int, int], color=(30, 60, 200), mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def _left_half_white(size: tuple[int, int]) -> bytes:
    mask = Image.new("L", size, 0)
    mask.paste(255, (0, 0, size[0] // 2, size[1]))
    buffer = io.BytesIO()
    mask.save(buffer, format="PNG")
    return buffer.getvalue()


def _job(**overrides) -> ProviderJob:
    values = {
        "generation_id": "00000000-0000-0000-0000-000000000001",
        "model_id": "openai/dall-e-2/edit",
        "upstream_model": "dall-e-2",
        "kind": "inpainting",
        "prompt": "a red balloon",
        "negative_prompt": "",
        "width": 512,
        "height": 512,
        "num_images": 1,
        "seed": 1,
        "output_format": "png",
    }
    return ProviderJob(**{**values, **overrides})


def _submit(job: ProviderJob) -> tuple[list, list[str]]:
    logs: list[str] = []
    submission = OpenAIImagesProvider().submit(job, reporter=Reporter(on_progress=lambda p: None, on_log=logs.append))
    return submission.outputs, logs


def _open(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_inpainting_sends_the_image_and_an_rgba_mask_transparent_where_ours_is_white(openai_fake):
    image = _png((512, 512))
    outputs, _ = _submit(_job(image=image, mask=_left_half_white((512, 512)), num_images=2))

    [request] = openai_fake.edits
    assert request.headers["content-type"].startswith("multipart/form-data")
    assert request.body == {
        "model": "dall-e-2",
        "prompt": "a red balloon",
        "size": "512x512",
        "response_format": "b64_json",
        "n": 2,
    }
    assert request.files["image"] == [image]
    mask = _open(request.files["mask"][0])
    assert (mask.format, mask.mode, mask.size) == ("PNG", "RGBA", (512, 512))
    assert mask.getpixel((10, 10))[3] == 0  # white in ours: to be repainted
    assert mask.getpixel((500, 10))[3] == 255  # black in ours: kept
    assert len(outputs) == 2
    result = _open(outputs[0].data)
    assert result.size == (512, 512)
    assert result.getpixel((10, 10)) == (255, 0, 0)  # the fake repainted the transparent half
    assert result.getpixel((500, 10)) != (255, 0, 0)


def test_gpt_image_inpainting_asks_for_the_output_format_and_quality(openai_fake):
    job = _job(
        model_id="openai/gpt-image-1/edit",
        upstream_model="gpt-image-1",
        width=1024,
        height=1024,
        output_format="webp",
        params={"quality": "high"},
        image=_png((1024, 1024)),
        mask=_left_half_white((1024, 1024)),
        # The plain call (streamed edits: test_provider_openai_previews.py).
        previews=False,
    )

    outputs, _ = _submit(job)

    [request] = openai_fake.edits
    assert request.body == {
        "model": "gpt-image-1",
        "prompt": "a red balloon",
        "size": "1024x1024",
        "quality": "high",
        "output_format": "webp",
        "n": 1,
    }
    assert (outputs[0].format, _open(outputs[0].data).format) == ("webp", "WEBP")


def test_variations_send_the_image_without_a_prompt_and_make_up_to_four(openai_fake):
    image = _png((256, 256))
    job = _job(model_id="openai/dall-e-2/variations", kind="image-to-image", width=256, height=256, num_images=4)

    outputs, _ = _submit(dataclasses.replace(job, image=image, prompt=""))

    [request] = openai_fake.variations
    assert request.body == {"model": "dall-e-2", "size": "256x256", "response_format": "b64_json", "n": 4}
    assert request.files == {"image": [image]}
    assert [(_open(o.data).size, o.format) for o in outputs] == [((256, 256), "png")] * 4


def test_dall_e_2_refusing_a_non_square_image_is_a_validation_error_with_its_message(openai_fake):
    with pytest.raises(ValidationFailed, match="image must be square"):
        _submit(_job(image=_png((640, 480)), mask=_left_half_white((640, 480))))


def test_a_content_refusal_of_an_edit_is_a_validation_error_with_openais_reason(openai_fake):
    openai_fake.fail_next("content_policy")

    with pytest.raises(ValidationFailed, match="rejected as a result of our safety system"):
        _submit(_job(image=_png((512, 512)), mask=_left_half_white((512, 512))))


def test_edits_without_an_image_or_mask_are_refused_before_calling_openai(openai_fake):
    with pytest.raises(ValidationFailed) as missing_image:
        _submit(_job())
    with pytest.raises(ValidationFailed) as missing_mask:
        _submit(_job(image=_png((512, 512))))

    assert "image" in missing_image.value.details
    assert "mask" in missing_mask.value.details
    assert openai_fake.requests == []


def test_rate_limits_past_the_attempt_limit_fail_as_unavailable_and_refund(alice, openai_fake, settings):
    openai_fake.fail_next("429", times=settings.ATELIER_MAX_ATTEMPTS)
    before = credits_remaining(alice)

    generation = generate_done(alice, model="openai/dall-e-3")

    assert generation["status"] == "failed"
    assert generation["error_type"] == "provider_unavailable"
    assert "OpenAI rate limit reached (gave up after" in generation["error"]
    assert len(openai_fake.generations) == settings.ATELIER_MAX_ATTEMPTS
    assert credits_remaining(alice) == before


def test_unreachable_api_is_retried_then_fails_and_refunds(alice, openai_fake, settings):
    settings.OPENAI_BASE_URL = "http://127.0.0.1:9/v1"  # the discard port: nothing listens
    before = credits_remaining(alice)

    generation = generate_done(alice, model="openai/dall-e-3")

    assert generation["status"] == "failed"
    assert generation["error_type"] == "provider_unavailable"
    assert "Could not reach OpenAI" in generation["error"]
    assert credits_remaining(alice) == before


class TestSynchronousSeedRoute:
    """Seed 000's synchronous /api/image/generate: the run happens on commit, inside the request."""

    pytestmark = pytest.mark.django_db(transaction=True)

    def test_content_refusal_is_a_400_with_openais_reason_and_a_refund(self, alice, openai_fake):
        openai_fake.fail_next("content_policy")
        before = credits_remaining(alice)

        response = alice.post(
            "/api/image/generate", {"prompt": "something refused", "model": "dall-e-3"}, format="json"
        )

        body = assert_envelope(response, 400, "validation_error")
        assert "OpenAI refused the prompt" in body["error"]
        assert "rejected as a result of our safety system" in body["error"]
        assert credits_remaining(alice) == before


# Edits and variations end to end: multipart uploads to POST /api/generate.


def _upload(data: bytes, name: str = "upload.png") -> io.BytesIO:
    handle = io.BytesIO(data)
    handle.name = name
    return handle


def _generate_multipart(client, **payload) -> dict:
    # A form post waits for the result unless told not to (seed 001's clients expect that).
    response = client.post("/api/generate", {"sync_mode": "false", **payload}, format="multipart")
    assert response.status_code == 201, response.content
    return client.get(f"/api/generate/{response.json()['generation']['id']}").json()["generation"]


def test_inpainting_upload_is_edited_where_the_mask_is_white_and_stored(alice, openai_fake):
    image = _png((512, 512))

    generation = _generate_multipart(
        alice,
        model="openai/dall-e-2/edit",
        prompt="a red balloon",
        image=_upload(image),
        mask=_upload(_left_half_white((512, 512)), "mask.png"),
    )

    assert generation["status"] == "completed", generation
    stored = fetch_image(alice, generation["images"][0]["url"]).convert("RGB")
    assert stored.size == (512, 512)
    assert stored.getpixel((10, 10)) == (255, 0, 0)
    assert stored.getpixel((500, 10)) != (255, 0, 0)
    [request] = openai_fake.edits
    assert (request.body["model"], request.body["size"], request.body["prompt"]) == (
        "dall-e-2",
        "512x512",
        generation["final_prompt"],
    )
    assert _open(request.files["image"][0]).size == (512, 512)
    assert _open(request.files["mask"][0]).mode == "RGBA"


def test_variations_upload_makes_several_images_without_a_prompt(alice, openai_fake):
    generation = _generate_multipart(
        alice, model="openai/dall-e-2/variations", image=_upload(_png((256, 256))), num_images=3
    )

    assert generation["status"] == "completed", generation
    assert [fetch_image(alice, entry["url"]).size for entry in generation["images"]] == [(256, 256)] * 3
    [request] = openai_fake.variations
    assert (request.body["n"], request.body["size"]) == (3, "256x256")
    assert "prompt" not in request.body


def test_an_edit_openai_refuses_fails_with_its_message_and_refunds(alice, openai_fake):
    before = credits_remaining(alice)

    generation = _generate_multipart(
        alice,
        model="openai/dall-e-2/edit",
        prompt="a red balloon",
        image=_upload(_png((640, 480))),
        mask=_upload(_left_half_white((640, 480)), "mask.png"),
    )

    assert generation["status"] == "failed"
    assert generation["error_type"] == "validation_error"
    assert "image must be square" in generation["error"]
    assert credits_remaining(alice) == before


def test_a_slow_answer_times_out_and_is_retried(alice, openai_fake, settings):
    settings.ATELIER_OPENAI_TIMEOUT_SECONDS = 0.3
    openai_fake.fail_next("slow")

    generation = generate_done(alice, model="openai/dall-e-3")

    assert generation["status"] == "completed", generation
    assert any("OpenAI did not answer in time; retrying" in message for message in log_messages(generation))
