"""Seed 000's and seed 001's generation endpoints at their documented paths."""

import base64
import io
import uuid

import pytest
from PIL import Image

from core.errors import ProviderUnavailable
from generation.models import Generation
from generation.providers.local import LocalProvider
from tests.helpers import LOCAL_MODEL, assert_envelope, fetch_image, generate_done

pytestmark = pytest.mark.django_db(transaction=True)


def test_image_models_lists_text_to_image_models_by_short_name(alice):
    models = alice.get("/api/image/models").json()["models"]
    assert models["flux-schnell"]["id"] == "black-forest-labs/FLUX.1-schnell"
    assert models["local"]["id"] == LOCAL_MODEL


def test_image_generate_answers_the_image_as_base64(alice):
    response = alice.post(
        "/api/image/generate", {"prompt": "a red kite", "width": 320, "height": 192, "model": "local"}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    image = Image.open(io.BytesIO(base64.b64decode(body["image"])))
    assert image.size == (320, 192)
    assert body["model"] == LOCAL_MODEL
    assert body["generationTime"] >= 0
    assert Generation.objects.get(pk=body["requestId"]).status == "completed"


def test_image_generate_refuses_bad_input_with_a_400(alice):
    assert_envelope(alice.post("/api/image/generate", {"width": 320}, format="json"), 400, "validation_error")
    assert_envelope(
        alice.post("/api/image/generate", {"prompt": "x", "width": 9000}, format="json"), 400, "validation_error"
    )


def test_image_generate_is_a_503_when_the_gpu_side_is_busy(alice, monkeypatch):
    def busy(self, job, *, reporter):
        raise ProviderUnavailable("Model is loading")

    monkeypatch.setattr(LocalProvider, "submit", busy)
    before = alice.get("/api/credits").json()["credits"]["remaining"]
    body = assert_envelope(alice.post("/api/image/generate", {"prompt": "x"}, format="json"), 503)
    assert body["error"] == "GPU resources busy"
    assert alice.get("/api/credits").json()["credits"]["remaining"] == before


def test_image_cancel_of_a_finished_or_unknown_request_is_a_404(alice, bob):
    done = generate_done(alice, width=64, height=64)
    assert_envelope(alice.post("/api/image/cancel", {"requestId": done["id"]}, format="json"), 404)
    assert_envelope(alice.post("/api/image/cancel", {"requestId": str(uuid.uuid4())}, format="json"), 404)
    assert_envelope(alice.post("/api/image/cancel", {}, format="json"), 400)


def test_model_info_by_alias_and_unknown(alice):
    body = alice.get("/api/model-info/flux").json()
    assert body["name"]
    assert set(body["info"]) >= {"what_is", "use_cases", "tips"}
    assert_envelope(alice.get("/api/model-info/nope"), 404)


def test_generation_status_pending_then_completed_and_owner_only(alice, bob):
    done = generate_done(alice, width=64, height=64)
    body = alice.get(f"/api/generation-status/{done['id']}").json()
    assert body["status"] == "completed"
    assert body["results"][0]["id"] == done["images"][0]["id"]
    assert_envelope(bob.get(f"/api/generation-status/{done['id']}"), 404)
    Generation.objects.filter(pk=done["id"]).update(status="in_queue")
    assert alice.get(f"/api/generation-status/{done['id']}").json()["status"] == "pending"


def test_seed_001_form_post_waits_and_answers_results(alice):
    """Seed 001's clients post a form and read ``results`` from the answer: a form post waits
    for the generation unless it says ``sync_mode=false``."""
    response = alice.post(
        "/api/generate", {"prompt": "A beautiful sunset over mountains", "model": "local"}, format="multipart"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    [result] = body["results"]
    assert result["type"] == "image"
    assert set(result) >= {"url", "id", "type", "thumbnail_url"}
    assert body["generation"]["status"] == "completed"
    assert fetch_image(alice, result["url"]).size == (1024, 1024)


@pytest.mark.redis
def test_json_posts_and_forms_saying_so_do_not_wait(alice, broker):
    for response in (
        alice.post("/api/generate", {"prompt": "a kite", "model": "local"}, format="json"),
        alice.post("/api/generate", {"prompt": "a kite", "model": "local", "sync_mode": "false"}, format="multipart"),
    ):
        assert response.status_code == 201, response.content
        assert response.json()["generation"]["status"] == "in_queue"
        assert "results" not in response.json()
