"""Video assets behind seed 001's short link ``/video/{short_key}``, with byte ranges so a
browser can play and seek them."""

import pytest

from gallery.models import Asset
from tests.inputs.conftest import picture, png, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def video(alice) -> Asset:
    response = alice.post(
        "/api/generate",
        {
            "model": "local-video",
            "image": upload(png(picture(128, 96))),
            "num_frames": 16,
            "fps": 8,
            "sync_mode": "false",
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    return Asset.objects.get(generation_id=response.json()["generation"]["id"])


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_the_owner_plays_the_whole_video_by_its_short_link(alice, video):
    response = alice.get(f"/video/{video.short_key}")
    assert response.status_code == 200
    assert response["Content-Type"] == "video/mp4"
    assert response["Accept-Ranges"] == "bytes"
    data = body(response)
    assert len(data) == video.file_size
    assert data[4:8] == b"ftyp"
    assert video.duration == pytest.approx(2.0, abs=0.1)
    assert video.thumbnail


@pytest.mark.parametrize(
    "header, first, last",
    [("bytes=0-99", 0, 99), ("bytes=100-", 100, None), ("bytes=-50", None, None)],
)
def test_a_range_request_gets_206_with_those_bytes(alice, video, header, first, last):
    whole = body(alice.get(f"/video/{video.short_key}"))
    size = len(whole)
    expected_first = size - 50 if first is None else first
    expected_last = size - 1 if last is None else last

    response = alice.get(f"/video/{video.short_key}", HTTP_RANGE=header)

    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {expected_first}-{expected_last}/{size}"
    assert int(response["Content-Length"]) == expected_last - expected_first + 1
    assert body(response) == whole[expected_first : expected_last + 1]


def test_a_range_past_the_end_is_416(alice, video):
    response = alice.get(f"/video/{video.short_key}", HTTP_RANGE=f"bytes={video.file_size + 10}-")
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{video.file_size}"


def test_a_range_we_do_not_serve_gets_the_whole_file(alice, video):
    response = alice.get(f"/video/{video.short_key}", HTTP_RANGE="bytes=0-1,5-9")
    assert response.status_code == 200
    assert len(body(response)) == video.file_size


def test_a_private_video_is_404_to_others_and_public_one_plays_for_anyone(alice, bob, anon, video):
    assert bob.get(f"/video/{video.short_key}").status_code == 404
    assert anon.get(f"/video/{video.short_key}", HTTP_RANGE="bytes=0-9").status_code == 404
    alice.patch(f"/api/gallery/{video.id}", {"is_public": True}, format="json")
    response = anon.get(f"/video/{video.short_key}", HTTP_RANGE="bytes=0-9")
    assert response.status_code == 206
    assert len(body(response)) == 10


def test_an_image_is_not_served_as_a_video(alice):
    response = alice.post(
        "/api/generate",
        {"model": "local-img2img", "image": upload(png(picture(64, 64))), "sync_mode": "false"},
        format="multipart",
    )
    image = Asset.objects.get(generation_id=response.json()["generation"]["id"])
    assert alice.get(f"/video/{image.short_key}").status_code == 404


def test_the_api_file_url_of_a_video_serves_ranges_to_its_owner_only(alice, bob, video):
    url = f"/api/gallery/{video.pk}/file"
    whole = body(alice.get(url))
    partial = alice.get(url, HTTP_RANGE="bytes=10-19")
    assert partial.status_code == 206
    assert body(partial) == whole[10:20]
    assert bob.get(url, HTTP_RANGE="bytes=10-19").status_code == 404


def test_a_video_generation_says_mp4(alice, video):
    generation = alice.get(f"/api/generate/{video.generation_id}").json()["generation"]
    assert generation["output_format"] == "mp4"
    assert generation["images"][0]["format"] == "mp4"
