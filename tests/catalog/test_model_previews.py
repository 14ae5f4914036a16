"""Each model's catalog entry says whether its jobs show in-progress pictures (``supports_previews``)."""

import pytest
import yaml
from django.test import Client

from catalog.models import AIModel

pytestmark = pytest.mark.django_db


def _models(client) -> dict:
    response = client.get("/api/models")
    assert response.status_code == 200, response.content
    return {entry["id"]: entry for entry in response.json()["models"]}


def test_the_api_says_which_models_show_previews(alice):
    models = _models(alice)

    assert models["local/procedural"]["supports_previews"] is True
    # The local renderer paints only a picture it draws from a prompt; edits, video and upscales show none.
    for model_id in ("local/image-to-image", "local/inpainting", "local/image-to-video", "local/upscale"):
        assert models[model_id]["supports_previews"] is False
    assert models["comfyui/checkpoint"]["supports_previews"] is True
    gpt_image = [entry for entry in models.values() if entry["provider"] == "openai" and "gpt-image" in entry["id"]]
    assert gpt_image and all(entry["supports_previews"] for entry in gpt_image)
    assert models["openai/dall-e-3"]["supports_previews"] is False
    # fal and Replicate models of the seed catalog do not stream; Hugging Face never does.
    assert models["fal-ai/flux/dev"]["supports_previews"] is False
    assert models["replicate/black-forest-labs/flux-schnell"]["supports_previews"] is False
    assert {entry["supports_previews"] for entry in models.values() if entry["provider"] == "huggingface"} == {False}


def test_a_fal_or_replicate_model_that_streams_says_so_in_its_defaults(alice):
    for model_id in ("fal-ai/flux/dev", "replicate/black-forest-labs/flux-schnell"):
        model = AIModel.objects.get(pk=model_id)
        model.defaults = {**model.defaults, "stream": True}
        model.save()

    models = _models(alice)

    assert models["fal-ai/flux/dev"]["supports_previews"] is True
    assert models["replicate/black-forest-labs/flux-schnell"]["supports_previews"] is True
    assert alice.get("/api/models/fal-ai/flux/dev").json()["model"]["supports_previews"] is True


def test_the_schema_documents_the_field(alice):
    response = alice.get("/api/schema/")
    schema = yaml.safe_load(b"".join(response.streaming_content) if response.streaming else response.content)

    field = schema["components"]["schemas"]["AIModel"]["properties"]["supports_previews"]
    assert field["type"] == "boolean" and field["readOnly"] is True
    assert "in-progress pictures" in field["description"]


def test_the_admin_lists_and_shows_it(staff):
    client = Client()
    client.force_login(staff.user)

    listing = client.get("/admin/catalog/aimodel/")
    page = client.get("/admin/catalog/aimodel/comfyui/checkpoint/change/")

    assert listing.status_code == 200 and "Previews" in listing.content.decode()
    assert page.status_code == 200 and "Previews" in page.content.decode()
