"""AUTOMATIC1111's ``/sdapi/v1`` as its clients use it: the ``webuiapi`` client against a live
server, and Open WebUI's requests as it sends them."""

import base64
import io
from datetime import timedelta

import pytest
import requests
import webuiapi
from django.utils import timezone
from PIL import Image

from catalog.models import AIModel
from core.errors import ProviderError
from core.process_cache import process_caches_clear
from credits.services import credits_admin_adjust
from generation.models import Generation, Status
from generation.providers.local import LocalProvider
from tests.helpers import credits_remaining
from tests.training.factories import image_files, start, upload

# The routes wait for work that runs once the creating transaction has committed.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def api(live_server, alice):
    """``webuiapi`` as its users set it up against A1111 with ``--api-auth``: the API key as password."""
    port = int(live_server.url.rsplit(":", 1)[1])
    client = webuiapi.WebUIApi(host="127.0.0.1", port=port)
    client.set_auth("alice", alice.secret)
    return client


def test_txt2img_answers_pngs_of_the_asked_size_and_charges_credits(api, alice):
    before = credits_remaining(alice)
    result = api.txt2img(prompt="a lighthouse at dusk", width=256, height=192, seed=42, batch_size=2, steps=8)
    assert [image.size for image in result.images] == [(256, 192), (256, 192)]
    assert all(image.format == "PNG" for image in result.images)
    assert result.info["seed"] == 42
    assert result.info["all_seeds"][0] == 42
    assert result.info["sd_model_name"] == "local/procedural"
    assert result.parameters["prompt"] == "a lighthouse at dusk"
    assert credits_remaining(alice) == before - 2


def _png(size=(256, 256), colour=(40, 120, 200)) -> Image.Image:
    return Image.new("RGB", size, colour)


def _b64(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def _request(method: str, live_server, path: str, **kwargs) -> requests.Response:
    return requests.request(method, f"{live_server.url}/sdapi/v1/{path}", timeout=60, **kwargs)


def test_open_webui_requests_with_basic_or_bearer_auth_get_images(live_server, alice):
    body = {"prompt": "a red kite", "batch_size": 1, "width": 256, "height": 256}
    basic = "Basic " + base64.b64encode(f"user:{alice.secret}".encode()).decode()
    for authorization in (basic, f"Bearer {alice.secret}"):
        response = _request("POST", live_server, "txt2img", json=body, headers={"Authorization": authorization})
        assert response.status_code == 200, response.text
        [image] = response.json()["images"]
        assert Image.open(io.BytesIO(base64.b64decode(image))).size == (256, 256)


def test_without_a_valid_key_the_routes_answer_401(live_server, alice):
    for headers in (
        {},
        {"Authorization": "Bearer nope"},
        {"Authorization": "Basic " + base64.b64encode(b"a:b").decode()},
    ):
        response = _request("GET", live_server, "sd-models", headers=headers)
        assert response.status_code == 401
        assert response.json()["detail"]


def test_bad_input_is_a_422_with_a_detail_and_charges_nothing(live_server, alice):
    before = credits_remaining(alice)
    headers = {"Authorization": f"Bearer {alice.secret}"}
    bodies = [
        {"prompt": "x", "width": 100000, "height": 256},
        {"prompt": "x", "width": "wide"},
        {"prompt": "x", "batch_size": 3, "n_iter": 2},
        {"prompt": "x", "override_settings": {"sd_model_checkpoint": "no-such-model"}},
        {"prompt": "x", "seed": 2**40},
    ]
    for body in bodies:
        response = _request("POST", live_server, "txt2img", json=body, headers=headers)
        assert response.status_code == 422, (body, response.text)
        answer = response.json()
        assert answer["detail"] and "errors" in answer and "body" in answer
    broken = _request("POST", live_server, "txt2img", data="{", headers={**headers, "Content-Type": "application/json"})
    assert broken.status_code == 422
    image_body = {"prompt": "x", "init_images": ["not base64!"], "width": 256, "height": 256}
    response = _request("POST", live_server, "img2img", json=image_body, headers=headers)
    assert response.status_code == 422, response.text
    assert "init_images" in response.json()["detail"]
    # A refusal names the field as the client sent it.
    image_body = {"prompt": "x", "init_images": [_b64(_png())], "denoising_strength": 3, "width": 256, "height": 256}
    response = _request("POST", live_server, "img2img", json=image_body, headers=headers)
    assert response.status_code == 422, response.text
    assert list(response.json()["errors"]) == ["denoising_strength"]
    assert credits_remaining(alice) == before


def test_a_failed_generation_is_a_502_with_a_refund_and_no_credits_a_402(live_server, alice, monkeypatch):
    def refuse(self, job, *, reporter):
        raise ProviderError("The provider refused the prompt")

    before = credits_remaining(alice)
    body = {"prompt": "a kite", "width": 256, "height": 256}
    with monkeypatch.context() as patched:
        patched.setattr(LocalProvider, "submit", refuse)
        failed = _request("POST", live_server, "txt2img", json=body, auth=("me", alice.secret))
    assert failed.status_code == 502, failed.text
    assert "refused the prompt" in failed.json()["detail"]
    assert credits_remaining(alice) == before
    credits_admin_adjust(user=alice.user, action="set", amount=0, reason="test", actor=None)
    broke = _request("POST", live_server, "txt2img", json=body, auth=("me", alice.secret))
    assert broke.status_code == 402, broke.text
    assert broke.json()["error"] == "insufficient_credits" and broke.json()["detail"]


def test_models_samplers_and_schedulers_are_listed(api):
    titles = api.util_get_model_names()
    assert "local/procedural" in titles
    assert "local/image-to-image" not in titles
    [model] = [model for model in api.get_sd_models() if model["title"] == "local/procedural"]
    assert set(model) == {"title", "model_name", "hash", "sha256", "filename", "config"}
    assert "Euler a" in api.util_get_sampler_names()
    assert "automatic" in api.util_get_scheduler_names()


def _webui(live_server, client) -> webuiapi.WebUIApi:
    port = int(live_server.url.rsplit(":", 1)[1])
    api = webuiapi.WebUIApi(host="127.0.0.1", port=port)
    api.set_auth("me", client.secret)
    return api


def test_options_choose_the_model_per_user(live_server, alice, bob):
    AIModel.objects.create(id="local/sketch", name="Local sketch", provider="local", kind="text-to-image", min_width=64)
    alice_api, bob_api = _webui(live_server, alice), _webui(live_server, bob)
    assert alice_api.util_get_current_model() == "local/procedural"
    alice_api.util_set_model("local/sketch", find_closest=False)
    assert alice_api.util_get_current_model() == "local/sketch"
    assert bob_api.util_get_current_model() == "local/procedural"
    # Her other preferences are as they were, and her choice applies to her generations.
    preferences = alice.get("/api/user/profile").json()["preferences"]
    assert preferences == {"default_style": "", "preferred_format": "png", "email_notifications": True}
    result = alice_api.txt2img(prompt="a kite", width=256, height=256, override_settings={})
    assert result.info["sd_model_name"] == "local/sketch"
    alice_api.set_options({"sd_model_checkpoint": "local/procedural"})
    assert bob_api.txt2img(prompt="a kite", width=256, height=256).info["sd_model_name"] == "local/procedural"
    for name in ("nope", "", 5):
        body = {"sd_model_checkpoint": name}
        refused = _request("POST", live_server, "options", json=body, auth=("me", alice.secret))
        assert refused.status_code == 422, refused.text
    assert alice_api.util_get_current_model() == "local/procedural"
    # A chosen model that is taken out of the catalog leaves the default in its place.
    alice_api.set_options({"sd_model_checkpoint": "Local sketch"})
    assert alice_api.util_get_current_model() == "local/sketch"
    AIModel.objects.filter(pk="local/sketch").update(is_active=False)
    process_caches_clear()
    assert alice_api.util_get_current_model() == "local/procedural"
    assert alice_api.txt2img(prompt="a kite", width=256, height=256).info["sd_model_name"] == "local/procedural"


def _trained_lora(client) -> dict:
    dataset = upload(client, image_files(4))
    response = start(client, dataset, steps=20)
    assert response.status_code == 201, response.content
    [lora] = client.get("/api/loras").json()["loras"]
    return lora


def test_a_lora_named_in_the_prompt_applies_the_callers_own_lora(live_server, alice, bob):
    lora = _trained_lora(alice)
    alice_api, bob_api = _webui(live_server, alice), _webui(live_server, bob)
    [listed] = alice_api.get_loras()
    assert listed["name"] == listed["alias"] == lora["name"]
    assert listed["path"] == lora["id"]
    assert listed["metadata"]["trigger_word"] == "filmlook"
    assert bob_api.get_loras() == []
    result = alice_api.txt2img(prompt=f"a red barn <lora:{lora['name']}:0.8>", width=256, height=256, seed=3)
    generation = Generation.objects.get(pk=result.info["generation_id"])
    assert generation.params["loras"] == [{"path": lora["id"], "scale": 0.8}]
    # The tag is gone and, as for any generation with the LoRA, its trigger word is in.
    assert generation.prompt == "filmlook a red barn"
    assert "<lora:" not in result.info["all_prompts"][0]
    before = credits_remaining(bob)
    body = {"prompt": f"a red barn <lora:{lora['name']}:0.8>", "width": 256, "height": 256}
    refused = _request("POST", live_server, "txt2img", json=body, auth=("me", bob.secret))
    assert refused.status_code == 422, refused.text
    assert "No LoRA of yours" in refused.json()["detail"]
    assert credits_remaining(bob) == before


def test_img2img_transforms_the_init_image_and_inpaints_with_a_mask(api, alice):
    before = credits_remaining(alice)
    result = api.img2img(images=[_png()], prompt="a blue pond", width=256, height=256, denoising_strength=0.4)
    [image] = result.images
    assert image.size == (256, 256)
    generation = Generation.objects.get(pk=result.info["generation_id"])
    assert generation.model_id == "local/image-to-image"
    assert generation.params["strength"] == 0.4
    assert generation.inputs.count() == 1
    assert result.parameters["init_images"] is None
    mask = Image.new("L", (256, 256), 0)
    mask.paste(255, (64, 64, 192, 192))
    inpainted = api.img2img(images=[_png()], mask_image=mask, prompt="a duck", width=256, height=256)
    assert inpainted.images[0].size == (256, 256)
    assert Generation.objects.get(pk=inpainted.info["generation_id"]).model_id == "local/inpainting"
    assert credits_remaining(alice) < before


def test_progress_follows_the_latest_running_generation(api, alice):
    idle = api.get_progress()
    assert idle["progress"] == 0 and idle["state"]["job_count"] == 0 and idle["current_image"] is None
    generation = Generation.objects.create(
        user=alice.user,
        model_id="local/procedural",
        provider="local",
        prompt="a kite",
        width=256,
        height=256,
        status=Status.PROCESSING,
        progress=50,
        started_at=timezone.now() - timedelta(seconds=10),
    )
    running = api.get_progress()
    assert running["progress"] == 0.5
    assert 9 <= running["eta_relative"] <= 12
    assert running["state"]["job"] == str(generation.pk)
    assert running["state"]["job_count"] == 1
