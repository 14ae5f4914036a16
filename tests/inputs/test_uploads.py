"""Upload rules: the content decides the type, bombs and oversize files are refused, EXIF
orientation is applied and metadata dropped. Every refusal is a 400 and charges nothing."""

import io
import os

import pytest
from PIL import Image

from generation.models import GenerationInput
from tests.helpers import assert_envelope, credits_remaining, fetch_image
from tests.inputs.conftest import jpeg, picture, png, png_bomb, upload

pytestmark = pytest.mark.django_db


def edit(client, data: bytes, name: str = "image.png", **fields):
    return client.post(
        "/api/generate",
        {"model": "local-img2img", "image": upload(data, name), "sync_mode": "false", **fields},
        format="multipart",
    )


def truncated_jpeg() -> bytes:
    data = jpeg(picture(256, 256))
    return data[: len(data) // 2]


def eleven_megabytes() -> bytes:
    """A real PNG of random noise just over 11 MB (noise does not compress)."""
    side = 1980
    noise = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    data = png(noise)
    assert len(data) > 11 * 1024 * 1024
    return data


@pytest.mark.parametrize(
    "make, name, message",
    [
        (lambda: b"just some text, not a picture\n" * 20, "photo.png", "not a PNG, JPEG"),
        (png_bomb, "bomb.png", "pixels"),
        (eleven_megabytes, "big.png", "larger than 10 MB"),
        (truncated_jpeg, "cut.jpg", "truncated"),
        (lambda: b"", "empty.png", "empty"),
    ],
    ids=["text-named-png", "20000x20000-bomb", "11-mb", "truncated-jpeg", "empty"],
)
def test_bad_uploads_are_400_and_charge_nothing(alice, make, name, message):
    before = credits_remaining(alice)
    body = assert_envelope(edit(alice, make(), name), 400)
    assert message in str(body["details"]["image"])
    assert credits_remaining(alice) == before
    assert alice.get("/api/generate").json()["pagination"]["total"] == 0
    assert not GenerationInput.objects.exists()


def test_a_png_declared_as_jpeg_is_read_by_its_content(alice):
    response = edit(alice, png(picture(80, 60)), "photo.jpg", strength=0)
    assert response.status_code == 201, response.content


def _exif_rotated_jpeg_with_gps() -> bytes:
    """Stored 200×100 (left red, right blue) with orientation 6: shown upright it is 100×200,
    red on top. It also carries a GPS position."""
    image = Image.new("RGB", (200, 100), (220, 20, 20))
    image.paste((20, 20, 220), (100, 0, 200, 100))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "TestCam"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (48.0, 51.0, 29.0), "E", (2.0, 17.0, 40.0)
    return jpeg(image, exif=exif.tobytes())


def test_an_exif_rotated_photo_comes_out_upright_without_its_metadata(alice):
    data = _exif_rotated_jpeg_with_gps()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)  # the upload does carry GPS

    response = edit(alice, data, "phone.jpg", strength=0, format="png")
    assert response.status_code == 201, response.content
    generation = alice.get(f"/api/generate/{response.json()['generation']['id']}").json()["generation"]

    result = fetch_image(alice, generation["images"][0]["url"]).convert("RGB")
    assert result.size == (100, 200)
    red, blue = result.getpixel((50, 20)), result.getpixel((50, 180))
    assert red[0] > 150 and red[2] < 80
    assert blue[2] > 150 and blue[0] < 80

    stored = GenerationInput.objects.get(generation_id=generation["id"])
    with stored.file.open("rb") as handle:
        kept = Image.open(io.BytesIO(handle.read()))
        assert kept.format == "PNG" and kept.size == (100, 200)
        assert not kept.getexif()
        assert "exif" not in kept.info and "icc_profile" not in kept.info
    assert not result.getexif()


def test_an_input_larger_than_the_model_allows_is_reduced_keeping_its_shape(alice, settings):
    generation_id = edit(alice, png(Image.new("RGB", (4096, 1024), (1, 2, 3))), strength=0).json()["generation"]["id"]
    generation = alice.get(f"/api/generate/{generation_id}").json()["generation"]
    assert (generation["width"], generation["height"]) == (2048, 512)


def test_a_transparent_input_stays_rgba_and_a_palette_one_is_read(alice):
    rgba = Image.new("RGBA", (96, 64), (10, 200, 10, 0))
    response = edit(alice, png(rgba), strength=0)
    assert response.status_code == 201, response.content
    stored = GenerationInput.objects.get(generation_id=response.json()["generation"]["id"])
    with stored.file.open("rb") as handle:
        assert Image.open(io.BytesIO(handle.read())).mode == "RGBA"
    palette = picture(96, 64).convert("P")
    assert edit(alice, png(palette), "p.png", strength=0).status_code == 201
    gif = io.BytesIO()
    picture(96, 64).save(gif, "GIF")
    assert edit(alice, gif.getvalue(), "a.gif", strength=0).status_code == 201


def test_an_idempotent_retry_with_another_file_is_a_conflict(alice):
    first = alice.post(
        "/api/generate",
        {"model": "local-img2img", "image": upload(png(picture(64, 64, seed=1)), "same.png"), "sync_mode": "false"},
        format="multipart",
        HTTP_IDEMPOTENCY_KEY="upload-1",
    )
    assert first.status_code == 201, first.content
    again = alice.post(
        "/api/generate",
        {"model": "local-img2img", "image": upload(png(picture(64, 64, seed=1)), "same.png"), "sync_mode": "false"},
        format="multipart",
        HTTP_IDEMPOTENCY_KEY="upload-1",
    )
    assert again.json()["generation"]["id"] == first.json()["generation"]["id"]
    other = alice.post(
        "/api/generate",
        {"model": "local-img2img", "image": upload(png(picture(64, 64, seed=2)), "same.png"), "sync_mode": "false"},
        format="multipart",
        HTTP_IDEMPOTENCY_KEY="upload-1",
    )
    assert_envelope(other, 409, "idempotency_conflict")


def test_a_body_larger_than_an_image_and_a_mask_can_be_is_refused_before_it_is_read(alice, settings):
    settings.ATELIER_UPLOAD_MAX_IMAGE_BYTES = 100_000
    settings.ATELIER_UPLOAD_MAX_FORM_OVERHEAD_BYTES = 10_000
    before = credits_remaining(alice)
    body = assert_envelope(edit(alice, os.urandom(300_000), "huge.png"), 413, "payload_too_large")
    assert "210000" in body["details"]
    assert credits_remaining(alice) == before
    assert not GenerationInput.objects.exists()
