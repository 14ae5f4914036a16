"""Local training end to end through HTTP: upload, quote, hold, train, files, the LoRA in generation."""

import io

import numpy as np
import pytest
from PIL import Image

from generation.providers.local_renderer.style_adapter import colour_statistics
from tests.helpers import assert_envelope, credits_remaining, generate_done, pixels
from tests.training.factories import image_files, start, style_images, upload

pytestmark = pytest.mark.django_db


def _trained(client, **body) -> dict:
    dataset = upload(client, image_files(6))
    response = start(client, dataset, **body)
    assert response.status_code == 201, response.content
    return client.get(f"/api/training/status/{response.json()['training_id']}").json()


def test_upload_answers_seed_004s_shape(alice):
    body = upload(alice, image_files(4))
    assert body["status"] == "success"
    assert body["image_count"] == 4
    assert body["total_size"].endswith("KB")
    assert body["images_data_url"] == f"/api/training/datasets/{body['dataset_id']}"
    assert any("10 or more" in warning for warning in body["warnings"])


def test_quote_is_what_the_start_holds_and_a_failed_nothing(alice):
    dataset = upload(alice, image_files(4))
    before = credits_remaining(alice)
    quote = start(alice, dataset, dry_run=True).json()
    assert quote["dry_run"] is True and quote["sufficient"] is True
    assert credits_remaining(alice) == before
    started = start(alice, dataset)
    assert started.status_code == 201, started.content
    body = started.json()
    assert body["status"] == "training_started"
    assert body["cost"] == quote["cost"]
    assert body["webhook_url"] == f"/api/training/status/{body['training_id']}"
    assert credits_remaining(alice) == before - quote["cost"]


def test_local_training_completes_with_falling_loss_samples_and_files(alice):
    status = _trained(alice, steps=80)
    assert status["status"] == "completed", status
    assert status["progress"] == 100
    assert status["current_step"] == status["total_steps"] == 80
    assert status["final_loss"] == status["loss"]
    history = [loss for _, loss in status["loss_history"]]
    assert history[-1] < history[0] / 5
    assert status["trigger_word"] == "filmlook"
    assert status["training_time"]
    assert any(line.startswith("Step 80/80: Loss") for line in status["logs"])
    assert {sample["seed"] for sample in status["samples"]} == {1, 2}
    sample = alice.get(status["samples"][-1]["url"])
    assert sample.status_code == 200 and sample["Content-Type"] == "image/png"
    model = alice.get(status["model_url"])
    assert model.status_code == 200
    data = b"".join(model.streaming_content)
    from generation.providers.local_renderer.style_adapter import loads

    assert set(loads(data)) == {"color_matrix", "color_bias", "tone_curve", "log_detail_gain"}
    config = alice.get(status["config_url"])
    assert b"style adapter" in b"".join(config.streaming_content)


def _generated(client, **payload) -> dict:
    generation = generate_done(client, **payload)
    if generation["status"] == "in_queue":
        from generation.services import generation_run

        generation_run(generation_id=generation["id"])
        generation = client.get(f"/api/generate/{generation['id']}").json()["generation"]
    return generation


def _stats(client, generation) -> np.ndarray:
    image = Image.open(io.BytesIO(b"".join(client.get(generation["images"][0]["url"]).streaming_content)))
    return colour_statistics(image)


def test_the_trained_lora_moves_generations_toward_the_dataset(alice):
    status = _trained(alice, steps=200)
    lora_id = status["lora_id"]
    dataset = np.mean([colour_statistics(image) for image in style_images(6)], axis=0)
    prompt = "a kite over a green hill"
    plain = _generated(alice, prompt=prompt, seed=11)
    styled = _generated(alice, prompt=prompt, seed=11, loras=[{"path": lora_id, "scale": 1.0}])
    again = _generated(alice, prompt=prompt, seed=11)
    assert styled["status"] == "completed", styled
    before = np.linalg.norm(_stats(alice, plain) - dataset)
    after = np.linalg.norm(_stats(alice, styled) - dataset)
    assert after <= before / 2
    # Without the LoRA the renderer draws exactly what it drew before.
    assert pixels(alice, plain["images"][0]["url"]) == pixels(alice, again["images"][0]["url"])
    assert "filmlook" in styled["final_prompt"]


def test_start_without_enough_credits_is_a_402_and_holds_nothing(alice):
    from credits.services import credits_admin_adjust

    dataset = upload(alice, image_files(4))
    credits_admin_adjust(user=alice.user, action="set", amount=1, reason="test", actor=None)
    response = start(alice, dataset)
    assert_envelope(response, 402, "insufficient_credits")
    assert credits_remaining(alice) == 1
    assert alice.get("/api/training").json()["trainings"] == []


def test_scale_zero_leaves_the_render_untouched(alice):
    lora_id = _trained(alice, steps=20)["lora_id"]
    plain = _generated(alice, prompt="a red barn", seed=3)
    zero = _generated(alice, prompt="a red barn filmlook", seed=3, loras=[{"path": lora_id, "scale": 0}])
    half = _generated(alice, prompt="a red barn filmlook", seed=3, loras=[{"path": lora_id, "scale": 0.5}])
    full = _generated(alice, prompt="a red barn filmlook", seed=3, loras=[{"path": lora_id, "scale": 1}])
    untouched = _generated(alice, prompt="a red barn filmlook", seed=3)
    assert pixels(alice, zero["images"][0]["url"]) == pixels(alice, untouched["images"][0]["url"])
    assert pixels(alice, half["images"][0]["url"]) != pixels(alice, full["images"][0]["url"])
    assert plain["final_prompt"] == "a red barn"


def test_with_the_requesting_user_a_lora_of_someone_else_is_refused_at_validation(alice, bob):
    from catalog.models import AIModel
    from core.errors import ValidationFailed
    from generation.validation import generation_spec_build

    lora_id = _trained(alice, steps=20)["lora_id"]
    model = AIModel.objects.get(pk="local/procedural")
    data = {"prompt": "a kite", "params": {"loras": [{"path": lora_id, "scale": 1.0}]}}
    with pytest.raises(ValidationFailed) as refused:
        generation_spec_build(model=model, data=data, user=bob.user)
    assert "no LoRA of yours" in refused.value.details["loras"][0]
    spec = generation_spec_build(model=model, data=data, user=alice.user)
    assert spec.prompt == "filmlook a kite"
    assert spec.params["loras"] == [{"path": lora_id, "scale": 1.0}]
