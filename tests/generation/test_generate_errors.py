import pytest

from credits.models import LedgerEntry
from generation.models import Generation
from generation.providers.local import LocalProvider
from tests.helpers import LOCAL_MODEL, assert_envelope, credits_remaining, generate

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"width": 4096}, "width"),
        ({"height": 32}, "height"),
        ({"model": "no-such/model"}, "model"),
        ({"prompt": ""}, "prompt"),
        ({"prompt": "   "}, "prompt"),
        ({"prompt": "x" * 2001}, "prompt"),
        ({"negative_prompt": "x" * 1001}, "negative_prompt"),
        ({"num_images": 5}, "num_images"),
        ({"num_images": 0}, "num_images"),
        ({"format": "gif"}, "format"),
        ({"image_size": "huge"}, "image_size"),
        ({"image_size": {"width": 512}}, "image_size"),
        ({"seed": -1}, "seed"),
        ({"guidance_scale": 25}, "guidance_scale"),
    ],
)
def test_bad_input_is_a_400_and_charges_nothing(alice, payload, field):
    before = credits_remaining(alice)
    body = assert_envelope(generate(alice, **payload), 400, "validation_error")
    assert field in body["details"]
    assert credits_remaining(alice) == before
    assert Generation.objects.count() == 0
    assert not LedgerEntry.objects.filter(kind="debit").exists()


def test_malformed_json_is_a_400_in_the_envelope(alice):
    response = alice.post("/api/generate", data='{"prompt": "a cat",', content_type="application/json")
    assert_envelope(response, 400, "parse_error")
    assert Generation.objects.count() == 0


def test_unconfigured_provider_is_a_503_and_charges_nothing(alice):
    before = credits_remaining(alice)
    response = generate(alice, model="fal-ai/flux/dev")
    assert_envelope(response, 503, "provider_unavailable")
    assert credits_remaining(alice) == before
    assert Generation.objects.count() == 0


def test_not_enough_credits_is_a_402_with_the_balance(alice):
    from credits.services import credits_debit

    credits_debit(user=alice.user, amount=credits_remaining(alice) - 1, reason="spend almost all")
    response = generate(alice, num_images=2, width=128, height=128)
    body = assert_envelope(response, 402, "insufficient_credits")
    assert body["credits_remaining"] == 1
    assert Generation.objects.count() == 0
    assert credits_remaining(alice) == 1


def test_provider_exception_fails_the_generation_and_refunds(alice, monkeypatch):
    def explode(self, job, *, reporter):
        raise RuntimeError("GPU caught fire")

    monkeypatch.setattr(LocalProvider, "submit", explode)
    before = credits_remaining(alice)

    response = generate(alice, width=128, height=128)

    assert response.status_code == 201
    generation = alice.get(f"/api/generate/{response.json()['generation']['id']}").json()["generation"]
    assert generation["status"] == "failed"
    assert "GPU caught fire" in generation["error"]
    assert generation["images"] == []
    assert credits_remaining(alice) == before
    kinds = [entry["kind"] for entry in alice.get("/api/credits/ledger").json()["entries"]]
    assert kinds[:2] == ["refund", "debit"]


def test_cancel_a_finished_generation_is_a_409(alice):
    generation_id = generate(alice, width=128, height=128).json()["generation"]["id"]
    assert_envelope(alice.delete(f"/api/generate/{generation_id}"), 409, "conflict")


def test_the_local_model_is_the_default(settings):
    assert settings.ATELIER_DEFAULT_MODEL == LOCAL_MODEL
