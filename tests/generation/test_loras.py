"""LoRAs: only for models that take them, and priced per image when applied."""

import pytest
from django.conf import settings

from tests.helpers import LOCAL_MODEL, assert_envelope, credits_remaining

pytestmark = pytest.mark.django_db

LORAS = [{"path": "owner/style-lora", "scale": 0.8}]


def _quote(client, **body) -> dict:
    response = client.post("/api/generate", {"prompt": "a kite", "dry_run": True, **body}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_a_lora_model_costs_the_lora_extra_per_image(alice):
    plain = _quote(alice, model="fal-ai/flux-lora", num_images=2)
    with_loras = _quote(alice, model="fal-ai/flux-lora", num_images=2, loras=LORAS)
    assert with_loras["cost"] - plain["cost"] == 2 * settings.ATELIER_CREDIT_LORA_EXTRA


def test_loras_for_a_model_that_takes_none_are_a_400_and_charge_nothing(alice):
    before = credits_remaining(alice)
    response = alice.post("/api/generate", {"prompt": "a kite", "model": LOCAL_MODEL, "loras": LORAS}, format="json")
    body = assert_envelope(response, 400, "validation_error")
    assert "takes no LoRAs" in body["details"]["loras"][0]
    assert credits_remaining(alice) == before
