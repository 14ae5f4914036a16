"""The fal provider end to end through our HTTP API, against a fake fal queue over HTTPS."""

import base64
import io
import logging

import pytest
from PIL import Image

from credits.models import LedgerEntry
from generation.tasks import poll_generation, run_generation
from tests.fakes.fal import KEY
from tests.generation.conftest import fal_configured
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


@pytest.fixture
def fal(settings):
    return fal_configured(settings)


def test_text_to_image_is_queued_followed_and_stored_with_fals_parameter_names(alice, fal):
    generation = generate_done(
        alice,
        model="fal-ai/flux/dev",
        prompt="a red fox in the snow",
        width=1024,
        height=768,
        num_images=2,
        seed=7,
        guidance_scale=2.5,
        num_inference_steps=20,
        enable_safety_checker=False,
        format="jpeg",
    )

    assert generation["status"] == "completed", generation
    assert generation["progress"] == 100
    assert len(generation["images"]) == 2
    for entry in generation["images"]:
        assert fal.host not in entry["url"]
        image = fetch_image(alice, entry["url"])
        assert (image.format, image.size) == ("JPEG", (1024, 768))
    [submit] = fal.submits()
    assert submit.path == "/fal-ai/flux/dev"
    assert submit.query == {}
    assert submit.headers["authorization"] == f"Key {KEY}"
    assert submit.body == {
        "prompt": generation["final_prompt"],
        "image_size": "landscape_4_3",
        "num_images": 2,
        "seed": 7,
        "guidance_scale": 2.5,
        "num_inference_steps": 20,
        "enable_safety_checker": False,
        "output_format": "jpeg",
    }
    statuses = fal.calls("GET", "/status")
    assert statuses and all(call.path.startswith("/fal-ai/flux/requests/") for call in statuses)
    assert any(call.query.get("logs") == ["true"] for call in statuses)
    assert "fal: step 4/4" in log_messages(generation)


def test_custom_sizes_go_as_width_and_height_and_other_formats_are_converted(alice, fal):
    generation = generate_done(
        alice, model="fal-ai/flux/schnell", image_size={"width": 640, "height": 480}, format="webp"
    )

    assert generation["status"] == "completed", generation
    image = fetch_image(alice, generation["images"][0]["url"])
    assert (image.format, image.size) == ("WEBP", (640, 480))
    [submit] = fal.submits()
    assert submit.body["image_size"] == {"width": 640, "height": 480}
    assert submit.body["output_format"] == "png"
    assert submit.body["num_inference_steps"] == 4


def test_queue_position_then_progress_then_completion_through_the_tasks(alice, fal, held_tasks):
    fal.queue_seconds = 60
    fal.run_seconds = 60
    fal.queue_ahead = 3
    generation_id = generate(alice, model="fal-ai/flux/dev").json()["generation"]["id"]
    assert generation_of(alice, generation_id)["status"] == "in_queue"

    run_generation(generation_id)
    poll_generation(generation_id, 0)
    shown = generation_of(alice, generation_id)
    assert (shown["status"], shown["queue_position"]) == ("processing", 3)

    job = fal.only_job()
    fal.advance(job, 60 + 20)
    poll_generation(generation_id, 1)
    shown = generation_of(alice, generation_id)
    assert shown["status"] == "processing"
    assert shown["queue_position"] is None
    assert 0 < shown["progress"] < 100
    assert "fal: step 1/4" in log_messages(shown)

    fal.advance(job, 60)
    poll_generation(generation_id, 2)
    shown = generation_of(alice, generation_id)
    assert shown["status"] == "completed", shown
    assert len(shown["images"]) == 1
    assert log_messages(shown).count("fal: step 1/4") == 1


def test_cancel_while_queued_at_fal_cancels_upstream_and_refunds(alice, fal, held_tasks):
    fal.queue_seconds = 60
    before = credits_remaining(alice)
    generation_id = generate(alice, model="fal-ai/flux/dev").json()["generation"]["id"]
    run_generation(generation_id)

    response = alice.delete(f"/api/generate/{generation_id}")

    assert response.status_code == 200, response.content
    assert [call.path for call in fal.calls("PUT")] == [f"/fal-ai/flux/requests/{fal.only_job().id}/cancel"]
    assert fal.only_job().cancelled
    poll_generation(generation_id, 0)
    shown = generation_of(alice, generation_id)
    assert shown["status"] == "cancelled"
    assert shown["images"] == []
    assert fal.calls("GET", "/status") == []
    assert credits_remaining(alice) == before


def test_nsfw_flagged_images_are_marked_and_stay_out_of_public_views(alice, anon, fal):
    fal.fail_next("nsfw")

    generation = generate_done(alice, model="fal-ai/flux/dev")

    assert generation["status"] == "completed", generation
    [image] = generation["images"]
    assert image["is_nsfw"] is True
    alice.patch(f"/api/gallery/{image['id']}", {"is_public": True}, format="json")
    public = anon.get("/api/gallery", {"public": "true"})
    assert image["id"] not in str(public.content)


def test_a_run_that_fails_at_fal_fails_with_its_message_and_refunds(alice, fal):
    fal.fail_next("run_error")
    before = credits_remaining(alice)

    generation = generate_done(alice, model="fal-ai/flux/dev")

    assert generation["status"] == "failed"
    assert generation["error_type"] == "validation_error"
    assert "Invalid status code: 422" in generation["error"]
    assert credits_remaining(alice) == before


def test_input_fal_refuses_fails_as_bad_input_with_the_providers_message(alice, fal):
    fal.fail_next("422")
    before = credits_remaining(alice)

    generation = generate_done(alice, model="fal-ai/flux/dev")

    assert generation["status"] == "failed"
    assert generation["error_type"] == "validation_error"
    assert "image_size: Invalid image size" in generation["error"]
    assert generation["error_details"]["provider"][0]["loc"] == ["body", "image_size"]
    assert len(fal.submits()) == 1
    assert credits_remaining(alice) == before


@pytest.mark.parametrize("kind", ["401", "403"])
def test_rejected_credentials_fail_refund_and_are_logged_without_the_key(alice, fal, caplog, kind):
    fal.fail_next(kind)
    before = credits_remaining(alice)

    with caplog.at_level(logging.ERROR, logger="generation.providers.fal"):
        generation = generate_done(alice, model="fal-ai/flux/dev")

    assert generation["status"] == "failed"
    assert generation["error_type"] == "provider_error"
    assert generation["error"] == "The provider rejected our credentials"
    assert "rejected our credentials" in caplog.text
    assert KEY not in caplog.text and KEY.split(":")[1] not in str(generation)
    assert len(fal.submits()) == 1
    assert credits_remaining(alice) == before


@pytest.mark.parametrize("kind", ["429", "500"])
def test_rate_limits_and_server_errors_are_retried_then_succeed(alice, fal, kind):
    fal.fail_next(kind)

    generation = generate_done(alice, model="fal-ai/flux/dev")

    assert generation["status"] == "completed", generation
    assert len(fal.submits()) == 2


# A lasting 429 is fal-client's own to retry (up to ten times, with its backoff) before the job
# system sees it; server errors come back at once and the job system's attempts run out.
@pytest.mark.parametrize("kind", ["500"])
def test_server_errors_that_last_fail_as_unavailable_and_refund(alice, fal, kind):
    fal.fail_next(kind, times=20)
    before = credits_remaining(alice)

    generation = generate_done(alice, model="fal-ai/flux/dev")

    assert generation["status"] == "failed"
    assert generation["error_type"] == "provider_unavailable"
    assert "gave up after 3 attempts" in generation["error"]
    assert any("retrying" in message for message in log_messages(generation))
    assert credits_remaining(alice) == before


def test_a_submit_slower_than_the_timeout_is_retried(alice, fal, settings):
    settings.ATELIER_FAL_TIMEOUT_SECONDS = 0.3
    fal.slow_seconds = 1.0
    fal.fail_next("slow")

    generation = generate_done(alice, model="fal-ai/flux/dev")

    assert generation["status"] == "completed", generation
    assert len(fal.submits()) == 2


@pytest.mark.parametrize("kind", ["garbage", "garbage_status"])
def test_malformed_answers_fail_with_a_clear_error_and_refund(alice, fal, kind):
    fal.fail_next(kind)
    before = credits_remaining(alice)

    generation = generate_done(alice, model="fal-ai/flux/dev")

    assert generation["status"] == "failed"
    assert generation["error_type"] == "provider_error"
    assert generation["error"] == "fal returned an answer that could not be read"
    assert credits_remaining(alice) == before
    refunds = LedgerEntry.objects.filter(generation_id=generation["id"], kind="refund")
    assert refunds.count() == 1


def test_job_urls_on_another_host_are_not_followed(alice, fal):
    fal.fail_next("foreign_url")

    generation = generate_done(alice, model="fal-ai/flux/dev")

    assert generation["status"] == "completed", generation
    assert fal.calls("GET", "/status")


def test_an_image_url_that_404s_fails_and_refunds(alice, fal):
    fal.fail_next("image_404")
    before = credits_remaining(alice)

    generation = generate_done(alice, model="fal-ai/flux/dev")

    assert generation["status"] == "failed"
    assert generation["error_type"] == "provider_error"
    assert "HTTP 404" in generation["error"]
    assert credits_remaining(alice) == before


def test_an_output_over_the_download_cap_fails_and_refunds(alice, fal, settings):
    settings.ATELIER_PROVIDER_DOWNLOAD_MAX_BYTES = 200
    before = credits_remaining(alice)

    generation = generate_done(alice, model="fal-ai/flux/dev")

    assert generation["status"] == "failed"
    assert "larger than allowed" in generation["error"]
    assert credits_remaining(alice) == before


def test_a_size_outside_the_models_limits_is_refused_before_any_upstream_call(alice, fal):
    before = credits_remaining(alice)

    response = generate(alice, model="fal-ai/flux/dev", width=4096, height=1024)

    body = assert_envelope(response, 400, "validation_error")
    assert "width" in body["details"]
    assert fal.requests == []
    assert credits_remaining(alice) == before


def test_lora_requests_carry_path_and_scale(alice, fal):
    loras = [{"path": "https://example.com/lora/a.safetensors", "scale": 0.8}, {"path": "owner/style-lora"}]

    generation = generate_done(alice, model="fal-ai/flux-lora", loras=loras)

    assert generation["status"] == "completed", generation
    [submit] = fal.submits()
    assert submit.path == "/fal-ai/flux-lora"
    assert submit.body["loras"] == [
        {"path": "https://example.com/lora/a.safetensors", "scale": 0.8},
        {"path": "owner/style-lora", "scale": 1.0},
    ]


def test_aspect_ratio_models_get_the_nearest_ratio(alice, fal):
    generation = generate_done(alice, model="fal-ai/flux-pro/v1.1-ultra", width=2400, height=1350)

    assert generation["status"] == "completed", generation
    [submit] = fal.submits()
    assert submit.body["aspect_ratio"] == "16:9"
    assert "image_size" not in submit.body


def test_unavailable_without_a_key(alice, fal, settings):
    settings.FAL_KEY = ""
    before = credits_remaining(alice)

    response = generate(alice, model="fal-ai/flux/dev")

    body = assert_envelope(response, 503, "provider_unavailable")
    assert "fal" in body["error"]
    assert fal.requests == []
    assert credits_remaining(alice) == before


def test_fal_models_are_listed_as_available_only_with_a_key(alice, fal, settings):
    listed = {model["id"]: model for model in alice.get("/api/models").json()["models"]}
    assert listed["fal-ai/flux/dev"]["available"] is True

    settings.FAL_KEY = ""
    listed = {model["id"]: model for model in alice.get("/api/models").json()["models"]}
    assert listed["fal-ai/flux/dev"]["available"] is False


def test_bob_cannot_see_or_cancel_alices_fal_generation(alice, bob, fal):
    generation = generate_done(alice, model="fal-ai/flux/schnell")

    assert_envelope(bob.get(f"/api/generate/{generation['id']}"), 404, "not_found")
    assert_envelope(bob.delete(f"/api/generate/{generation['id']}"), 404, "not_found")


def _png(width: int, height: int, colour=(200, 80, 40), mode: str = "RGB") -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new(mode, (width, height), colour).save(buffer, format="PNG")
    buffer.seek(0)
    buffer.name = "input.png"
    return buffer


def _multipart(client, **payload):
    # A form post waits for the result unless told not to (seed 001's clients expect that).
    return client.post("/api/generate", {"sync_mode": "false", **payload}, format="multipart")


def _data_uri_image(value: str) -> Image.Image:
    header, _, encoded = value.partition(",")
    assert header == "data:image/png;base64"
    image = Image.open(io.BytesIO(base64.b64decode(encoded)))
    image.load()
    return image


def test_image_to_image_sends_the_image_as_a_data_uri_with_the_strength(alice, fal):
    response = _multipart(
        alice, model="fal-ai/flux/dev/image-to-image", prompt="as a watercolour", image=_png(640, 512), strength=0.6
    )

    assert response.status_code == 201, response.content
    generation = alice.get(f"/api/generate/{response.json()['generation']['id']}").json()["generation"]
    assert generation["status"] == "completed", generation
    [submit] = fal.submits()
    assert submit.path == "/fal-ai/flux/dev/image-to-image"
    assert submit.body["strength"] == 0.6
    sent = _data_uri_image(submit.body["image_url"])
    assert (sent.size, sent.getpixel((0, 0))[:3]) == ((640, 512), (200, 80, 40))
    assert fetch_image(alice, generation["images"][0]["url"]).size == (640, 512)


def test_inpainting_sends_the_image_and_the_mask(alice, fal):
    response = _multipart(
        alice,
        model="flux_pro",
        prompt="a red door",
        image=_png(512, 512),
        mask=_png(512, 512, colour=255, mode="L"),
    )

    assert response.status_code == 201, response.content
    generation = alice.get(f"/api/generate/{response.json()['generation']['id']}").json()["generation"]
    assert generation["status"] == "completed", generation
    [submit] = fal.submits()
    assert submit.path == "/fal-ai/flux-pro/v1/fill"
    assert _data_uri_image(submit.body["image_url"]).size == (512, 512)
    mask = _data_uri_image(submit.body["mask_url"])
    assert (mask.size, mask.getpixel((10, 10))) == ((512, 512), 255)


def test_image_to_video_stores_an_mp4_video_asset(alice, fal):
    response = _multipart(alice, model="stable_video", image=_png(1024, 576), seed=5)

    assert response.status_code == 201, response.content
    generation = alice.get(f"/api/generate/{response.json()['generation']['id']}").json()["generation"]
    assert generation["status"] == "completed", generation
    [submit] = fal.submits()
    assert submit.path == "/fal-ai/stable-video"
    assert set(submit.body) == {"seed", "image_url"}
    assert submit.body["seed"] == 5
    [video] = generation["images"]
    assert video["type"] == "video"
    download = alice.get(video["url"])
    assert download.status_code == 200
    data = b"".join(download.streaming_content)
    assert data[4:8] == b"ftyp"
    thumbnail = fetch_image(alice, video["thumbnail_url"])
    assert thumbnail.size[0] > 0


def test_upscale_sends_the_image_and_the_factor(alice, fal):
    response = _multipart(
        alice, model="fal-ai/clarity-upscaler", prompt="sharp", image=_png(300, 200), upscale_factor=2
    )

    assert response.status_code == 201, response.content
    generation = alice.get(f"/api/generate/{response.json()['generation']['id']}").json()["generation"]
    assert generation["status"] == "completed", generation
    [submit] = fal.submits()
    assert submit.path == "/fal-ai/clarity-upscaler"
    assert submit.body["upscale_factor"] == 2
    assert "image_size" not in submit.body and "num_images" not in submit.body
    assert _data_uri_image(submit.body["image_url"]).size == (300, 200)
    assert fetch_image(alice, generation["images"][0]["url"]).size == (600, 400)


def test_sync_mode_is_passed_on_so_fal_answers_inline(alice, fal, settings):
    # No waiting in this test: the run happens once the request has answered.
    settings.ATELIER_SYNC_TIMEOUT_SECONDS = 0
    response = generate(alice, model="fal-ai/flux/dev", sync_mode=True)
    assert response.status_code in (200, 202), response.content

    generation = alice.get(f"/api/generate/{response.json()['generation']['id']}").json()["generation"]
    assert generation["status"] == "completed", generation
    [submit] = fal.submits()
    assert submit.body["sync_mode"] is True
