import pytest

from tests.helpers import LOCAL_MODEL, assert_envelope

pytestmark = pytest.mark.django_db

SEED_MODELS = [
    "fal-ai/flux/dev",
    "fal-ai/flux/schnell",
    "fal-ai/flux-pro/v1.1",
    "fal-ai/flux-pro/v1.1-ultra",
    "fal-ai/flux-lora",
    "fal-ai/flux-realism",
    "fal-ai/recraft/v3/text-to-image",
    "fal-ai/ideogram/v3",
    "fal-ai/nano-banana",
    "fal-ai/wan/v2.2-5b/text-to-image",
    "openai/dall-e-3",
    "openai/dall-e-2",
    "black-forest-labs/FLUX.1-schnell",
]


def test_every_seed_model_is_listed_with_the_local_one_available(alice):
    models = {m["id"]: m for m in alice.get("/api/models").json()["models"]}
    assert set(SEED_MODELS) <= set(models)
    assert models[LOCAL_MODEL]["available"] is True
    assert models["fal-ai/flux/dev"]["available"] is False
    assert "not an AI model" in models[LOCAL_MODEL]["info"]["what_is"].replace("NOT", "not")


def test_filters_by_kind_provider_and_availability(alice):
    videos = alice.get("/api/models?kind=image-to-video").json()["models"]
    assert videos and all(m["kind"] == "image-to-video" for m in videos)
    openai = alice.get("/api/models?provider=openai").json()["models"]
    assert {m["id"] for m in openai} >= {"openai/dall-e-3", "openai/dall-e-2"}
    available = alice.get("/api/models?available=true").json()["models"]
    # Without keys only the offline local provider is available, with one model per kind.
    assert {m["provider"] for m in available} == {"local"}
    kinds = {"text-to-image", "image-to-image", "inpainting", "image-to-video", "upscale"}
    assert {m["kind"] for m in available} == kinds
    assert available[0]["id"] == LOCAL_MODEL
    assert_envelope(alice.get("/api/models?kind=sculpture"), 400)


@pytest.mark.parametrize(
    "ref, model_id",
    [
        ("fal-ai/flux/dev", "fal-ai/flux/dev"),
        ("flux", "fal-ai/flux/dev"),
        ("stable_video", "fal-ai/stable-video"),
        ("flux_pro", "fal-ai/flux-pro/v1/fill"),
        ("flux-schnell", "black-forest-labs/FLUX.1-schnell"),
    ],
)
def test_detail_by_id_or_alias(alice, ref, model_id):
    assert alice.get(f"/api/models/{ref}").json()["model"]["id"] == model_id


def test_unknown_model_is_a_404(alice):
    assert_envelope(alice.get("/api/models/nope/nothing"), 404, "not_found")
