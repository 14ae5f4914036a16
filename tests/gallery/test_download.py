import io

import pytest
from PIL import Image

from gallery.models import Asset
from tests.gallery.conftest import body_of, make_asset, mp4_bytes, png_bytes
from tests.helpers import assert_envelope


def _decode(response) -> Image.Image:
    image = Image.open(io.BytesIO(body_of(response)))
    image.load()
    return image


@pytest.mark.parametrize(("fmt", "pillow"), [("png", "PNG"), ("jpeg", "JPEG"), ("webp", "WEBP"), ("jpg", "JPEG")])
def test_download_converts_to_the_asked_format_at_full_size(alice, storage_backend, fmt, pillow):
    asset = make_asset(alice.user, prompt="A lighthouse, at sunset!", data=png_bytes(120, 80), width=120, height=80)
    response = alice.get(f"/api/gallery/{asset.id}/download?format={fmt}")
    assert response.status_code == 200
    extension = "jpeg" if fmt == "jpg" else fmt
    assert response["Content-Disposition"] == (
        f'attachment; filename="a-lighthouse-at-sunset-{str(asset.id)[:8]}.{extension}"'
    )
    image = _decode(response)
    assert (image.format, image.size) == (pillow, (120, 80))


def test_jpeg_flattens_transparency_onto_white(alice, storage_backend):
    transparent = png_bytes(40, 40, color=(255, 0, 0, 0))
    asset = make_asset(alice.user, data=transparent, width=40, height=40)
    image = _decode(alice.get(f"/api/gallery/{asset.id}/download?format=jpeg"))
    assert image.mode == "RGB"
    assert all(channel > 245 for channel in image.getpixel((20, 20)))
    half = make_asset(alice.user, data=png_bytes(40, 40, color=(0, 0, 0, 128)), width=40, height=40)
    grey = _decode(alice.get(f"/api/gallery/{half.id}/download?format=jpeg")).getpixel((20, 20))
    assert all(120 < channel < 135 for channel in grey)


def test_conversion_is_made_once_and_reused(alice, stored, monkeypatch):
    asset = make_asset(alice.user)
    first = body_of(alice.get(f"/api/gallery/{asset.id}/download?format=webp"))
    assert stored(f"conversions/{alice.user.pk}/{asset.id}.webp")

    def no_second_conversion(*args, **kwargs):
        raise AssertionError("converted twice")

    monkeypatch.setattr("gallery.services.convert", no_second_conversion)
    assert body_of(alice.get(f"/api/gallery/{asset.id}/download?format=webp")) == first


def test_download_without_format_is_the_original(alice, storage_backend):
    data = png_bytes()
    asset = make_asset(alice.user, data=data)
    response = alice.get(f"/api/gallery/{asset.id}/download")
    assert response["Content-Disposition"].startswith("attachment;")
    assert body_of(response) == data


def test_seed_download_routes(alice):
    asset = make_asset(alice.user)
    assert _decode(alice.get(f"/download/{asset.id}/jpeg")).format == "JPEG"
    assert _decode(alice.get(f"/download/{asset.id}/webp")).format == "WEBP"
    assert _decode(alice.get(f"/asset/{asset.id}/download")).format == "PNG"


def test_an_image_accept_header_still_gets_the_file(alice):
    asset = make_asset(alice.user)
    response = alice.get(f"/api/gallery/{asset.id}/download?format=webp", HTTP_ACCEPT="image/webp")
    assert _decode(response).format == "WEBP"


@pytest.mark.parametrize("fmt", ["gif", "bmp", "../../etc/passwd"])
def test_unknown_formats_are_a_400(alice, fmt):
    asset = make_asset(alice.user)
    assert_envelope(alice.get(f"/api/gallery/{asset.id}/download", {"format": fmt}), 400, "validation_error")


def test_videos_download_as_they_are(alice):
    clip = mp4_bytes()
    asset = make_asset(alice.user, data=clip, format="mp4", width=96, height=64, type=Asset.Type.VIDEO)
    response = alice.get(f"/api/gallery/{asset.id}/download")
    assert response["Content-Type"] == "video/mp4"
    assert body_of(response) == clip
    assert_envelope(alice.get(f"/api/gallery/{asset.id}/download?format=png"), 400, "validation_error")
