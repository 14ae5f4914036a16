"""Which requests count against the hourly request quota and the group rate limits, on the
default limits: a person's own files, thumbnails, downloads and event streams never do, nor the
web UI's own reads; an API client's calls do, and its 429 says which limit, what is left and
when it resets."""

from datetime import datetime

import pytest
import time_machine
from django.utils import timezone

from credits.selectors import limits_for_user
from tests.helpers import assert_envelope, generate_done, signed_in

pytestmark = pytest.mark.django_db

DEFAULT_HOURLY_REQUESTS = 100


@pytest.fixture
def enforced(settings):
    """The limits as production enforces them (the test settings switch them off), at their
    default values."""
    settings.RATELIMIT_ENABLE = True
    settings.ATELIER_QUOTAS_ENABLED = True
    assert settings.ATELIER_DEFAULT_HOURLY_REQUESTS == DEFAULT_HOURLY_REQUESTS
    assert settings.ATELIER_RATE_LIMITS["general"] == "100/15m"
    return settings


@pytest.fixture
def clock():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def _hourly(user) -> dict:
    return next(row for row in limits_for_user(user=user) if row["name"] == "hourly_requests")


def _drain(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_three_hundred_files_thumbnails_downloads_and_event_streams_never_count(alice, enforced, clock):
    generation = generate_done(alice, width=64, height=64)
    asset_id = generation["images"][0]["id"]
    used_before = _hourly(alice.user)["used"]
    urls = [
        f"/api/gallery/{asset_id}/thumbnail",
        f"/api/gallery/{asset_id}/file",
        f"/api/gallery/{asset_id}/download",
        f"/api/gallery/{asset_id}/download?format=webp",
        f"/download/{asset_id}/jpeg",
        f"/asset/{asset_id}/download",
    ]
    for index in range(300):
        response = alice.get(urls[index % len(urls)])
        assert response.status_code == 200, (index, response.content[:200])
        _drain(response)
    for _ in range(30):
        stream = alice.get(f"/api/generate/{generation['id']}/events")
        assert stream.status_code == 200
        assert b"completed" in _drain(stream)
    assert _hourly(alice.user)["used"] == used_before
    # Still a full allowance for what does count.
    assert alice.get("/api/credits").status_code == 200


def test_byte_ranges_of_a_users_file_never_count(alice, enforced, clock):
    generation = generate_done(alice, width=64, height=64)
    asset_id = generation["images"][0]["id"]
    used_before = _hourly(alice.user)["used"]
    for _ in range(120):
        response = alice.get(f"/api/gallery/{asset_id}/file", HTTP_RANGE="bytes=0-9")
        assert response.status_code in (200, 206)
        _drain(response)
    assert _hourly(alice.user)["used"] == used_before


def test_a_person_browsing_in_the_web_ui_is_never_refused_for_background_reads(alice, enforced, clock):
    generation = generate_done(alice, width=64, height=64)
    asset_id = generation["images"][0]["id"]
    used_before = _hourly(alice.user)["used"]
    browser = signed_in(alice.user)
    # Pages, and what their scripts read in the background: balance, lists, status polls, files.
    background = [
        "/api/credits",
        "/api/gallery",
        f"/api/generate/{generation['id']}",
        "/api/generate",
        f"/api/gallery/{asset_id}/thumbnail",
        "/api/models",
    ]
    for page in ("/library", f"/asset/{asset_id}", "/account", "/studio"):
        response = browser.get(page)
        assert response.status_code in (200, 302), page
        for url in background:
            for _ in range(15):
                response = browser.get(url)
                assert response.status_code == 200, url
                _drain(response)
    assert _hourly(alice.user)["used"] == used_before


def test_a_browsers_changes_count_like_everyone_elses(alice, enforced, clock):
    browser = signed_in(alice.user)
    for index in range(3):
        response = browser.post("/api/collections", {"name": f"board {index}"}, content_type="application/json")
        assert response.status_code == 201
    assert _hourly(alice.user)["used"] == 3


def test_an_api_client_over_the_hourly_quota_is_told_which_limit_what_is_left_and_when(alice, enforced, clock):
    asset_id = generate_done(alice, width=64, height=64)["images"][0]["id"]
    used = _hourly(alice.user)["used"]
    # The gallery group allows 1000 an hour: only the plan's quota stands in the way here.
    for _ in range(DEFAULT_HOURLY_REQUESTS - used):
        assert alice.get("/api/gallery").status_code == 200
    refused = alice.get("/api/gallery")
    body = assert_envelope(refused, 429, "quota_exceeded")
    retry_after = int(refused["Retry-After"])
    assert 1 <= retry_after <= 3600
    limit = body["limit"]
    assert limit["name"] == "hourly_requests"
    assert limit["limit"] == DEFAULT_HOURLY_REQUESTS
    assert limit["remaining"] == 0
    assert limit["retry_after"] == retry_after
    resets_at = datetime.fromisoformat(limit["resets_at"].replace("Z", "+00:00"))
    assert abs((resets_at - timezone.now()).total_seconds() - retry_after) <= 1
    assert body["resets_at"] == limit["resets_at"]
    assert "Limit: 100 API requests per hour" in body["details"]
    assert "Remaining: 0" in body["details"]
    assert "Resets at" in body["details"]
    # The owner's files are still served, and the next hour brings the allowance back.
    thumbnail = alice.get(f"/api/gallery/{asset_id}/thumbnail")
    assert thumbnail.status_code == 200
    _drain(thumbnail)
    clock.shift(retry_after + 1)
    assert alice.get("/api/gallery").status_code == 200


def test_a_group_rate_limit_says_which_group_what_is_left_and_when(alice, enforced, clock):
    for _ in range(100):
        assert alice.get("/api/credits").status_code == 200
    refused = alice.get("/api/credits")
    body = assert_envelope(refused, 429, "rate_limited")
    retry_after = int(refused["Retry-After"])
    assert 1 <= retry_after <= 15 * 60
    assert body["limit"] == {
        "name": "general",
        "limit": 100,
        "remaining": 0,
        "window": "15 minutes",
        "resets_at": body["resets_at"],
        "retry_after": retry_after,
    }
    assert body["details"].startswith("Limit: 100 API requests per 15 minutes. Remaining: 0. Resets at ")


def test_a_trainings_files_events_and_dataset_never_count(alice, enforced, clock):
    from tests.training.factories import image_files, start, upload

    dataset = upload(alice, image_files(3))
    job_id = start(alice, dataset, steps=20).json()["training_id"]
    used_before = _hourly(alice.user)["used"]
    urls = [
        f"/api/training/{job_id}/events",
        f"/api/training/{job_id}/files/model.safetensors",
        f"/api/training/{job_id}/files/sample-0.png",
        f"/api/training/datasets/{dataset['dataset_id']}",
    ]
    for index in range(DEFAULT_HOURLY_REQUESTS + 20):
        response = alice.get(urls[index % len(urls)])
        assert response.status_code == 200, (index, response.content[:200])
        _drain(response)
    assert _hourly(alice.user)["used"] == used_before
