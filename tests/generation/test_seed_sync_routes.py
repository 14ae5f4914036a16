"""Seed 002's and seed 004's synchronous generate routes and seed 001's clear-generation-state."""

import io
import uuid

import pytest
from PIL import Image

from core.errors import ProviderError
from generation.models import Generation
from generation.providers.local import LocalProvider
from tests.helpers import LOCAL_MODEL, assert_envelope, credits_remaining, fetch_image

# Synchronous routes wait for work that runs once the creating transaction has committed.
pytestmark = pytest.mark.django_db(transaction=True)


def test_seed_004_generate_image_answers_images_credits_and_time(alice):
    before = credits_remaining(alice)
    body = {
        "prompt": "A beautiful sunset over mountains",
        "model": LOCAL_MODEL,
        "image_size": {"width": 320, "height": 192},
        "negative_prompt": "blurry",
        "seed": 12345,
    }
    response = alice.post("/generate/image", body, format="json")
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["success"] is True
    [image] = answer["images"]
    assert image["format"] == "PNG"
    assert image["dimensions"] == {"width": 320, "height": 192}
    assert fetch_image(alice, image["image_url"]).size == (320, 192)
    assert answer["credits_used"] == 1
    assert answer["credits_remaining"] == before - 1 == credits_remaining(alice)
    assert answer["generation_time"] >= 0
    assert "sunset" in answer["prompt"]


def test_seed_004_generate_image_refuses_bad_input_and_charges_nothing(alice):
    before = credits_remaining(alice)
    assert_envelope(alice.post("/generate/image", {"model": LOCAL_MODEL}, format="json"), 400, "validation_error")
    assert_envelope(alice.post("/generate/image", {"prompt": "x", "model": "nope"}, format="json"), 400)
    assert credits_remaining(alice) == before


def test_seed_004_a_failed_generation_is_a_502_with_a_refund(alice, monkeypatch):
    def refuse(self, job, *, reporter):
        raise ProviderError("The provider refused the prompt")

    monkeypatch.setattr(LocalProvider, "submit", refuse)
    before = credits_remaining(alice)
    body = assert_envelope(alice.post("/generate/image", {"prompt": "x"}, format="json"), 502)
    assert "refused the prompt" in str(body["details"])
    assert credits_remaining(alice) == before


def test_seed_002_images_generate_answers_the_url_and_metadata(alice):
    body = {"prompt": "a quiet harbour", "negative_prompt": "people", "width": 256, "height": 128, "seed": 7}
    response = alice.post("/api/images/generate", body, format="json")
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["status"] == "success"
    assert answer["metadata"]["prompt"] == "a quiet harbour"
    assert answer["metadata"]["negative_prompt"] == "people"
    assert (answer["metadata"]["width"], answer["metadata"]["height"]) == (256, 128)
    assert answer["metadata"]["seed"] == 7
    assert fetch_image(alice, answer["image_url"]).size == (256, 128)


def test_seed_002_images_generate_refuses_a_missing_prompt(alice):
    assert_envelope(alice.post("/api/images/generate", {"width": 256}, format="json"), 400, "validation_error")


def test_seed_002_post_images_go_into_the_post_and_only_the_owner_can(alice, bob):
    post = alice.post("/api/collections", {"name": "Harbour story"}, format="json").json()["collection"]
    url = f"/api/v1/posts/{post['id']}/generate_images"
    response = alice.post(url, {"prompt": "a harbour at dawn", "count": 2}, format="json")
    assert response.status_code == 200, response.content
    urls = response.json()["image_urls"]
    assert len(urls) == 2
    for image_url in urls:
        assert Image.open(io.BytesIO(b"".join(alice.get(image_url).streaming_content))).format == "PNG"
    in_post = alice.get(f"/api/gallery?collection={post['id']}").json()
    assert len(in_post["images"]) == 2

    before = credits_remaining(bob)
    assert_envelope(bob.post(url, {"prompt": "mine now"}, format="json"), 404)
    assert_envelope(bob.post(f"/api/v1/posts/{uuid.uuid4()}/generate_images", {"prompt": "x"}, format="json"), 404)
    assert_envelope(alice.post(url, {"prompt": "x", "count": 9}, format="json"), 400)
    assert credits_remaining(bob) == before


@pytest.mark.redis
def test_seed_001_clear_generation_state_cancels_and_refunds_only_the_callers_unfinished_jobs(alice, bob, broker):
    before = credits_remaining(alice)
    for _ in range(2):
        assert alice.post("/api/generate", {"prompt": "x", "model": LOCAL_MODEL}, format="json").status_code == 201
    bobs = bob.post("/api/generate", {"prompt": "y", "model": LOCAL_MODEL}, format="json").json()["generation"]
    assert credits_remaining(alice) == before - 2

    response = alice.post("/api/clear-generation-state", format="json")
    assert response.status_code == 200
    assert response.json() == {"success": True, "message": "Generation state cleared successfully", "cancelled": 2}
    assert set(Generation.objects.filter(user=alice.user).values_list("status", flat=True)) == {"cancelled"}
    assert credits_remaining(alice) == before
    assert Generation.objects.get(pk=bobs["id"]).status == "in_queue"
