import io

import pytest
from django.core.management import call_command
from PIL import Image

from gallery.models import Asset
from tests.gallery.conftest import body_of, make_asset, mp4_bytes, png_bytes
from tests.helpers import generate_done


def _thumbnail(client, asset_id) -> Image.Image:
    detail = client.get(f"/api/gallery/{asset_id}").json()["image"]
    assert detail["thumbnail_url"], detail
    image = Image.open(io.BytesIO(body_of(client.get(detail["thumbnail_url"]))))
    image.load()
    return image


@pytest.mark.parametrize(("width", "height"), [(1024, 512), (300, 900)])
def test_thumbnail_is_webp_with_the_long_side_from_settings(alice, storage_backend, settings, width, height):
    settings.ATELIER_THUMBNAIL_SIZE = 256
    asset = make_asset(alice.user, data=png_bytes(width, height), width=width, height=height)
    thumb = _thumbnail(alice, asset.id)
    assert thumb.format == "WEBP"
    assert max(thumb.size) == min(256, max(width, height))
    assert abs(thumb.size[0] / thumb.size[1] - width / height) < 0.02


def test_small_images_are_not_enlarged(alice, storage_backend):
    asset = make_asset(alice.user, data=png_bytes(40, 30), width=40, height=30)
    assert _thumbnail(alice, asset.id).size == (40, 30)


def test_video_thumbnail_is_its_first_frame_and_duration_is_recorded(alice, storage_backend):
    asset = make_asset(alice.user, data=mp4_bytes(), format="mp4", width=96, height=64, type="video")
    thumb = _thumbnail(alice, asset.id)
    assert thumb.size == (96, 64)
    red, green, blue = thumb.convert("RGB").getpixel((48, 32))
    assert red < 40 and 60 < green < 120 and 130 < blue < 190
    detail = alice.get(f"/api/gallery/{asset.id}").json()["image"]
    assert detail["duration"] == pytest.approx(1.0, abs=0.2)


def test_a_generated_image_gets_its_thumbnail_on_commit(alice):
    generation = generate_done(alice)
    assert generation["status"] == "completed"
    image = alice.get("/api/gallery").json()["images"][0]
    assert image["thumbnail_url"].endswith(f"/api/gallery/{image['id']}/thumbnail")


def test_rebuild_command_makes_the_missing_thumbnails(alice, storage_backend):
    assets = [make_asset(alice.user) for _ in range(3)]
    Asset.objects.filter(pk__in=[a.pk for a in assets[:2]]).update(thumbnail="")
    out = io.StringIO()
    call_command("gallery_rebuild_thumbnails", "--no-progress", stdout=out)
    assert "2 thumbnail(s) made, 0 failed." in out.getvalue()
    assert not Asset.objects.filter(thumbnail="").exists()
    for asset in assets:
        assert _thumbnail(alice, asset.id).format == "WEBP"


def test_rebuild_command_reports_a_broken_file_and_goes_on(alice):
    good = make_asset(alice.user)
    broken = make_asset(alice.user, data=b"not an image")
    Asset.objects.update(thumbnail="")
    out, err = io.StringIO(), io.StringIO()
    call_command("gallery_rebuild_thumbnails", stdout=out, stderr=err)
    assert "1 thumbnail(s) made, 1 failed." in out.getvalue()
    assert str(broken.id) in err.getvalue()
    assert Asset.objects.get(pk=good.pk).thumbnail


def test_no_thumbnail_yet_is_a_404_in_the_envelope(alice):
    asset = make_asset(alice.user)
    Asset.objects.filter(pk=asset.pk).update(thumbnail="")
    assert alice.get(f"/api/gallery/{asset.id}").json()["image"]["thumbnail_url"] is None
    response = alice.get(f"/api/gallery/{asset.id}/thumbnail")
    assert response.status_code == 404
    assert response.json()["type"] == "not_found"
