"""Bad training uploads are refused before anything is stored or charged; harmless ones warn."""

import io
import re
import zipfile

import pytest
from PIL import Image

from tests.helpers import assert_envelope, credits_remaining
from tests.training.factories import image_files, png, style_images, upload, upload_file, zip_of

pytestmark = pytest.mark.django_db


def _post(client, files):
    return client.post("/api/training/upload", {"files[]": files}, format="multipart")


def _no_dataset_stored(client):
    from training.models import TrainingDataset

    assert not TrainingDataset.objects.filter(user=client.user).exists()


def test_an_upload_answers_200_in_seed_004s_shape(alice):
    response = _post(alice, image_files(3))
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["success"], body["status"], body["image_count"]) == (True, "success", 3)
    assert re.fullmatch(r"\d+\.\dKB", body["total_size"])
    assert isinstance(body["images_data_url"], str) and body["images_data_url"]
    download = alice.get(body["images_data_url"])
    assert download.status_code == 200
    assert len(zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content))).namelist()) == 3


def test_bob_gets_404_for_alices_uploaded_dataset(alice, bob):
    body = upload(alice, image_files(3))
    assert_envelope(bob.get(body["images_data_url"]), 404, "not_found")
    for reference in ({"images_data_url": body["images_data_url"]}, {"dataset_id": body["dataset_id"]}):
        start = bob.post("/api/training/start", {**reference, "trigger_word": "mine"}, format="json")
        assert_envelope(start, 404, "not_found")


def test_an_undecodable_image_is_refused_by_name(alice):
    files = [*image_files(3), upload_file("broken.png", b"\x89PNG\r\n\x1a\nnot really")]
    body = assert_envelope(_post(alice, files), 400, "validation_error")
    assert "not a decodable image" in body["details"]["files"]["broken.png"][0]
    _no_dataset_stored(alice)


def test_an_image_under_the_minimum_side_is_refused(alice):
    small = style_images(1, size=64)[0]
    body = assert_envelope(_post(alice, [*image_files(3), upload_file("tiny.png", png(small))]), 400)
    assert "smaller than the minimum side" in body["details"]["files"]["tiny.png"][0]


def test_a_gif_renamed_png_is_judged_by_its_content(alice):
    buffer = io.BytesIO()
    Image.new("RGB", (300, 300)).save(buffer, format="GIF")
    body = assert_envelope(_post(alice, [*image_files(3), upload_file("fake.png", buffer.getvalue())]), 400)
    assert "GIF is not a training image format" in body["details"]["files"]["fake.png"][0]


def test_duplicates_are_dropped_and_orphan_captions_ignored_with_warnings(alice):
    files = image_files(4)
    duplicate = upload_file("again.png", png(style_images(1)[0]))
    caption = upload_file("photo_0.txt", b"filmlook, a warm print")
    orphan = upload_file("nobody.txt", b"a caption without an image")
    body = upload(alice, [*files, duplicate, caption, orphan])
    assert body["image_count"] == 4
    assert any("again.png: duplicate of photo_0.png" in warning for warning in body["warnings"])
    assert any("nobody.txt: caption without an image" in warning for warning in body["warnings"])
    assert any(image["caption"] == "filmlook, a warm print" for image in body["images"])


def test_too_few_images_is_a_400(alice):
    body = assert_envelope(_post(alice, image_files(2)), 400)
    assert "at least 3" in body["details"]["files"][0]


def test_more_images_than_the_plan_allows_is_a_400(alice, settings):
    settings.ATELIER_TRAINING_MAX_IMAGES_BY_PLAN = {"free": 3}
    body = assert_envelope(_post(alice, image_files(4)), 400)
    assert "your plan allows 3" in body["details"]["files"][0]


def test_a_zip_is_checked_like_files(alice):
    entries = {f"set/{i}.png": png(image) for i, image in enumerate(style_images(4))}
    entries["set/0.txt"] = b"filmlook"
    entries["__MACOSX/._0.png"] = b"junk"
    data = zip_of(entries)
    body = upload(alice, [upload_file("dataset.zip", data)])
    assert body["image_count"] == 4
    download = alice.get(body["images_data_url"])
    assert download.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content))).namelist()
    assert names == ["image_001.png", "image_001.txt", "image_002.png", "image_003.png", "image_004.png"]


@pytest.mark.parametrize("name", ["../evil.png", "/etc/evil.png", "a/../../evil.png", "C:/evil.png", "a\\..\\evil.png"])
def test_a_zip_entry_leaving_the_archive_is_refused(alice, name):
    entries = {f"{i}.png": png(image) for i, image in enumerate(style_images(3))}
    entries[name] = png(style_images(1, seed=9)[0])
    body = assert_envelope(_post(alice, [upload_file("d.zip", zip_of(entries))]), 400)
    assert "leaves the archive" in body["error"]
    _no_dataset_stored(alice)


def test_a_zip_bomb_is_refused_before_it_is_expanded(alice):
    entries = {f"{i}.png": png(image) for i, image in enumerate(style_images(3))}
    entries["bomb.png"] = b"\0" * (8 * 1024 * 1024)
    body = assert_envelope(_post(alice, [upload_file("d.zip", zip_of(entries))]), 400)
    assert "expands too far" in body["error"]


def test_a_zip_larger_than_the_plan_is_a_413(alice, settings):
    from credits.models import Plan

    Plan.objects.filter(slug="free").update(max_upload_mb=1)
    entries = {f"{i}.png": png(image) for i, image in enumerate(style_images(3, size=700))}
    assert_envelope(_post(alice, [upload_file("d.zip", zip_of(entries))]), 413, "payload_too_large")


def test_not_a_zip_is_a_400(alice):
    body = assert_envelope(_post(alice, [upload_file("d.zip", b"PK not a zip")]), 400)
    assert "zip" in body["error"].lower()


def test_no_files_is_a_400_and_charges_nothing(alice):
    before = credits_remaining(alice)
    assert_envelope(alice.post("/api/training/upload", {}, format="multipart"), 400)
    assert credits_remaining(alice) == before


def test_start_accepts_seed_004s_data_url(alice):
    import base64

    entries = {f"{i}.png": png(image) for i, image in enumerate(style_images(3))}
    data_url = "data:application/zip;base64," + base64.b64encode(zip_of(entries)).decode()
    response = alice.post(
        "/api/training/start",
        {"images_data_url": data_url, "trigger_word": "mylogo", "steps": 20, "dry_run": True},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["cost"] > 0


def test_start_with_a_malformed_data_url_is_a_400(alice):
    response = alice.post(
        "/api/training/start",
        {"images_data_url": "data:application/zip;base64,@@@", "trigger_word": "x"},
        format="json",
    )
    assert_envelope(response, 400)


def test_start_refuses_bad_options(alice):
    dataset = upload(alice, image_files(3))
    for body, field in (
        ({"trigger_word": "has space"}, "trigger_word"),
        ({"trigger_word": "ok", "provider": "nowhere"}, "provider"),
        ({"trigger_word": "ok", "steps": 1}, "steps"),
    ):
        response = alice.post("/api/training/start", {"dataset_id": dataset["dataset_id"], **body}, format="json")
        assert field in assert_envelope(response, 400)["details"]


def test_a_zip_with_more_entries_than_a_dataset_can_hold_is_refused_unopened(alice, settings):
    settings.ATELIER_TRAINING_MAX_IMAGES_BY_PLAN = {"free": 5}
    entries = {f"{i}.txt": b"x" for i in range(40)}
    body = assert_envelope(_post(alice, [upload_file("d.zip", zip_of(entries))]), 400)
    assert "too many entries" in body["error"]


def test_one_zip_or_files_not_both(alice):
    files = [*image_files(3), upload_file("d.zip", zip_of({"a.png": png(style_images(1)[0])}))]
    body = assert_envelope(_post(alice, files), 400)
    assert "not both" in body["details"]["files"][0]
