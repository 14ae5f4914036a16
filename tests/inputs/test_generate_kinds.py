"""Every image kind end to end through the API with the local provider, multipart and JSON."""

import io

import imageio_ffmpeg
import pytest
from PIL import Image, ImageChops, ImageDraw

from core.errors import ProviderTransient
from generation import providers
from generation.models import GenerationInput
from generation.providers.local import LocalProvider
from tests.helpers import assert_envelope, credits_remaining, fetch_image
from tests.inputs.conftest import picture, png, upload

pytestmark = pytest.mark.django_db


def post(client, **fields):
    # A form post waits for the result unless told not to (seed 001's clients expect that).
    return client.post("/api/generate", {"sync_mode": "false", **fields}, format="multipart")


def finished(client, response) -> dict:
    assert response.status_code == 201, response.content
    generation_id = response.json()["generation"]["id"]
    generation = client.get(f"/api/generate/{generation_id}").json()["generation"]
    assert generation["status"] == "completed", generation
    return generation


def test_image_to_image_blends_the_input_by_strength(alice):
    source = picture(200, 150)
    kept = finished(alice, post(alice, model="local-img2img", prompt="ocean", image=upload(png(source)), strength=0))
    assert (kept["width"], kept["height"]) == (200, 150)
    assert fetch_image(alice, kept["images"][0]["url"]).convert("RGB").tobytes() == source.tobytes()

    half = finished(
        alice, post(alice, model="local-img2img", prompt="ocean", image=upload(png(source)), strength=0.5, seed=5)
    )
    full = finished(
        alice, post(alice, model="local-img2img", prompt="ocean", image=upload(png(source)), strength=1, seed=5)
    )
    blended = fetch_image(alice, half["images"][0]["url"]).convert("RGB")
    pattern = fetch_image(alice, full["images"][0]["url"]).convert("RGB")
    assert blended.tobytes() != source.tobytes()
    assert pattern.tobytes() != blended.tobytes()
    # Halfway means halfway: each pixel is the mean of input and pattern, give or take rounding.
    expected = Image.blend(source, pattern, 0.5)
    assert ImageChops.difference(blended, expected).getextrema() <= ((0, 1), (0, 1), (0, 1))


def test_inpainting_changes_only_the_pixels_under_the_mask(alice):
    source = picture(256, 192)
    mask = Image.new("L", source.size, 0)
    ImageDraw.Draw(mask).rectangle((64, 48, 191, 143), fill=255)
    before = credits_remaining(alice)

    generation = finished(
        alice,
        post(
            alice,
            model="local-inpaint",
            prompt="a red car",
            image=upload(png(source), "photo.jpg"),
            mask=upload(png(mask), "mask.png"),
        ),
    )

    result = fetch_image(alice, generation["images"][0]["url"]).convert("RGB")
    assert result.size == source.size
    outside = Image.eval(mask, lambda v: 255 if v == 0 else 0)
    kept = Image.composite(result, Image.new("RGB", source.size), outside)
    original = Image.composite(source, Image.new("RGB", source.size), outside)
    assert kept.tobytes() == original.tobytes()
    inside = result.crop((64, 48, 192, 144))
    assert ImageChops.difference(inside, source.crop((64, 48, 192, 144))).getbbox() is not None
    assert credits_remaining(alice) == before - generation["credits_used"]


def test_inpainting_mask_of_another_size_is_resized_to_the_image(alice):
    source = picture(200, 100)
    small_mask = Image.new("L", (100, 50), 0)
    ImageDraw.Draw(small_mask).rectangle((50, 0, 99, 49), fill=255)  # the right half
    generation = finished(
        alice,
        post(alice, model="local-inpaint", prompt="stars", image=upload(png(source)), mask=upload(png(small_mask))),
    )
    result = fetch_image(alice, generation["images"][0]["url"]).convert("RGB")
    assert result.crop((0, 0, 96, 100)).tobytes() == source.crop((0, 0, 96, 100)).tobytes()
    stored = GenerationInput.objects.get(generation_id=generation["id"], role="mask")
    with stored.file.open("rb") as handle:
        mask = Image.open(io.BytesIO(handle.read()))
        assert (mask.mode, mask.size) == ("L", (200, 100))


def _decode(data: bytes, tmp_path) -> tuple[dict, list[bytes]]:
    path = tmp_path / "clip.mp4"
    path.write_bytes(data)
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    return meta, list(reader)


def test_image_to_video_makes_an_mp4_asset_with_the_frames_asked_for(alice, tmp_path):
    # Seed 001's curl example: a model and an image file, no prompt.
    response = post(
        alice, model="local-video", image=upload(png(picture(320, 240)), "image.jpg"), num_frames=24, fps=12
    )
    generation = finished(alice, response)

    asset = generation["images"][0]
    assert (asset["type"], asset["format"]) == ("video", "mp4")
    assert (asset["width"], asset["height"]) == (320, 240)
    assert asset["duration"] == pytest.approx(2.0, abs=0.1)
    assert asset["thumbnail_url"]
    body = alice.get(asset["url"])
    meta, frames = _decode(b"".join(body.streaming_content), tmp_path)
    assert meta["size"] == (320, 240)
    assert meta["fps"] == pytest.approx(12)
    assert len(frames) == 24
    assert len(frames[0]) == 320 * 240 * 3
    # It moves: the first and last frames differ.
    assert frames[0] != frames[-1]
    thumbnail = fetch_image(alice, asset["thumbnail_url"])
    assert thumbnail.format == "WEBP"
    assert response.json()["credits_used"] == generation["credits_used"] > 0


def test_image_to_video_defaults_and_frame_limits(alice, tmp_path, settings):
    generation = finished(alice, post(alice, model="local-video", image=upload(png(picture(161, 121)))))
    assert generation["params"]["num_frames"] == 48 and generation["params"]["fps"] == 16
    asset = generation["images"][0]
    # H.264 in 4:2:0 needs even sides: the input is trimmed by a pixel.
    assert (asset["width"], asset["height"]) == (160, 120)
    meta, frames = _decode(b"".join(alice.get(asset["url"]).streaming_content), tmp_path)
    assert (meta["size"], len(frames)) == ((160, 120), 48)

    before = credits_remaining(alice)
    too_many = post(
        alice, model="local-video", image=upload(png(picture())), num_frames=settings.ATELIER_VIDEO_MAX_FRAMES + 1
    )
    assert "num_frames" in assert_envelope(too_many, 400)["details"]
    too_fast = post(alice, model="local-video", image=upload(png(picture())), fps=settings.ATELIER_VIDEO_MAX_FPS + 1)
    assert "fps" in assert_envelope(too_fast, 400)["details"]
    assert credits_remaining(alice) == before


@pytest.mark.parametrize("factor", [2, 4])
def test_upscale_enlarges_by_the_factor(alice, factor):
    source = picture(120, 80)
    generation = finished(alice, post(alice, model="local-upscale", image=upload(png(source)), upscale_factor=factor))
    result = fetch_image(alice, generation["images"][0]["url"])
    assert result.size == (120 * factor, 80 * factor)
    assert (generation["width"], generation["height"]) == result.size
    # Still the same picture: shrunk back, it is close to the input.
    back = result.convert("RGB").resize(source.size, Image.Resampling.BOX)
    assert max(high for _, high in ImageChops.difference(back, source).getextrema()) < 96


def test_upscale_refuses_other_factors_and_fits_large_inputs(alice):
    before = credits_remaining(alice)
    assert (
        "upscale_factor"
        in assert_envelope(
            post(alice, model="local-upscale", image=upload(png(picture(64, 64))), upscale_factor=3), 400
        )["details"]
    )
    assert credits_remaining(alice) == before
    big = Image.new("RGB", (3000, 1000), (10, 200, 30))
    generation = finished(alice, post(alice, model="local-upscale", image=upload(png(big)), upscale_factor=4))
    # At most 4096 a side: the input was reduced to 1024×341 first.
    assert (generation["width"], generation["height"]) == (4096, 1364)


def test_json_image_url_is_fetched_and_kept_with_the_generation(alice, image_host):
    response = alice.post(
        "/api/generate",
        {"model": "local-img2img", "prompt": "x", "image_url": f"{image_host.base}/image.png", "strength": 0},
        format="json",
    )
    generation = finished(alice, response)
    assert image_host.requests == ["/image.png"]
    result = fetch_image(alice, generation["images"][0]["url"]).convert("RGB")
    assert result.tobytes() == Image.open(io.BytesIO(image_host.image)).convert("RGB").tobytes()
    stored = GenerationInput.objects.get(generation_id=generation["id"])
    assert (stored.role, stored.source_url, stored.width, stored.height) == (
        "image",
        f"{image_host.base}/image.png",
        160,
        120,
    )


def test_json_inpainting_with_image_and_mask_urls(alice, image_host, tmp_path):
    response = alice.post(
        "/api/generate",
        {
            "model": "local-inpaint",
            "prompt": "x",
            "image_url": f"{image_host.base}/image.png",
            "mask_url": f"{image_host.base}/image.png",
        },
        format="json",
    )
    finished(alice, response)
    assert sorted(image_host.requests) == ["/image.png", "/image.png"]


def test_multipart_text_to_image_as_in_seed_001(alice):
    generation = finished(
        alice, post(alice, prompt="A beautiful sunset over mountains", model="local", width=128, height=96)
    )
    assert fetch_image(alice, generation["images"][0]["url"]).size == (128, 96)


def test_multipart_image_size_object_as_json_text(alice):
    generation = finished(alice, post(alice, prompt="sunset", model="local", image_size='{"width": 160, "height": 96}'))
    assert (generation["width"], generation["height"]) == (160, 96)


def test_a_requested_size_crops_the_input_to_fill_it(alice):
    generation = finished(
        alice,
        post(alice, model="local-img2img", image=upload(png(picture(300, 100))), width=128, height=128, strength=0),
    )
    assert fetch_image(alice, generation["images"][0]["url"]).size == (128, 128)


@pytest.mark.parametrize(
    "fields, missing",
    [
        ({"model": "local"}, "prompt"),
        ({"model": "local-img2img", "prompt": "x"}, "image"),
        ({"model": "local-inpaint", "prompt": "x", "mask": "MASK"}, "image"),
        ({"model": "local-inpaint", "prompt": "x", "image": "IMAGE"}, "mask"),
        ({"model": "local-inpaint", "image": "IMAGE", "mask": "MASK"}, "prompt"),
        ({"model": "local-video", "prompt": "x"}, "image"),
        ({"model": "local-upscale"}, "image"),
    ],
)
def test_each_kind_names_its_missing_field_and_charges_nothing(alice, fields, missing):
    before = credits_remaining(alice)
    files = {"IMAGE": upload(png(picture(64, 64))), "MASK": upload(png(Image.new("L", (64, 64), 255)))}
    payload = {key: files.get(value, value) for key, value in fields.items()}
    body = assert_envelope(post(alice, **payload), 400, "validation_error")
    assert list(body["details"]) == [missing]
    assert credits_remaining(alice) == before
    assert alice.get("/api/generate").json()["pagination"]["total"] == 0


def test_inputs_a_kind_does_not_take_are_refused(alice):
    body = assert_envelope(post(alice, model="local", prompt="x", image=upload(png(picture(64, 64)))), 400)
    assert "image" in body["details"]
    body = assert_envelope(
        post(alice, model="local-img2img", image=upload(png(picture(64, 64))), mask=upload(png(picture(64, 64)))), 400
    )
    assert "mask" in body["details"]
    body = assert_envelope(
        post(alice, model="local-img2img", image=upload(png(picture(64, 64))), image_url="https://example.com/a.png"),
        400,
    )
    assert "image_url" in body["details"]


def test_an_all_black_mask_is_refused(alice):
    before = credits_remaining(alice)
    body = assert_envelope(
        post(
            alice,
            model="local-inpaint",
            prompt="x",
            image=upload(png(picture(64, 64))),
            mask=upload(png(Image.new("L", (64, 64), 0))),
        ),
        400,
    )
    assert "mask" in body["details"]
    assert credits_remaining(alice) == before


class FlakyEditProvider(LocalProvider):
    """Fails its first attempt as a busy provider would, then edits like the local one."""

    name = "flaky-edit"

    def __init__(self) -> None:
        self.images: list[bytes] = []

    def submit(self, job, *, reporter):
        self.images.append(job.image)
        if len(self.images) == 1:
            raise ProviderTransient("busy")
        return super().submit(job, reporter=reporter)


def test_a_retry_sends_the_provider_the_same_stored_input(alice, settings):
    from catalog.models import AIModel

    settings.ATELIER_RETRY_BACKOFF_SECONDS = 0.01
    settings.ATELIER_RETRY_BACKOFF_MAX_SECONDS = 0.01
    provider = FlakyEditProvider()
    providers.register(provider)
    AIModel.objects.create(
        id="test/flaky-edit",
        name="Flaky edit",
        provider="flaky-edit",
        kind="image-to-image",
        min_width=64,
        min_height=64,
    )
    try:
        generation = finished(
            alice, post(alice, model="test/flaky-edit", image=upload(png(picture(96, 64))), strength=0)
        )
    finally:
        providers.unregister(provider.name)
    assert len(provider.images) == 2
    assert provider.images[0] == provider.images[1]
    stored = GenerationInput.objects.get(generation_id=generation["id"])
    with stored.file.open("rb") as handle:
        assert handle.read() == provider.images[0]


def test_bob_cannot_see_alices_image_generation(alice, bob):
    generation = finished(alice, post(alice, model="local-img2img", image=upload(png(picture(64, 64)))))
    assert bob.get(f"/api/generate/{generation['id']}").status_code == 404
    assert bob.get(generation["images"][0]["url"]).status_code == 404


def test_inputs_from_reuses_an_earlier_generations_image_and_mask(alice, bob):
    source = picture(128, 96)
    mask = Image.new("L", source.size, 0)
    ImageDraw.Draw(mask).rectangle((0, 0, 63, 95), fill=255)
    first = finished(
        alice,
        post(alice, model="local-inpaint", prompt="moon", image=upload(png(source)), mask=upload(png(mask)), seed=3),
    )
    again = finished(alice, post(alice, model="local-inpaint", prompt="moon", inputs_from=first["id"], seed=3))
    assert (
        fetch_image(alice, again["images"][0]["url"]).tobytes()
        == fetch_image(alice, first["images"][0]["url"]).tobytes()
    )
    # The same image for another kind, with its own size rules.
    upscaled = finished(alice, post(alice, model="local-upscale", inputs_from=first["id"]))
    assert (upscaled["width"], upscaled["height"]) == (256, 192)

    before = credits_remaining(bob)
    body = assert_envelope(post(bob, model="local-inpaint", prompt="moon", inputs_from=first["id"]), 400)
    assert "inputs_from" in body["details"]
    assert credits_remaining(bob) == before
    body = assert_envelope(post(alice, model="local", prompt="moon", inputs_from=first["id"]), 400)
    assert "inputs_from" in body["details"]
