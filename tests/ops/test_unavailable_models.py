"""A model whose provider has no key is listed as unavailable with what enables it, and asking
it for images answers 503 with the same hint in ``details``."""

import pytest

from tests.helpers import assert_envelope, generate

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_provider_keys(settings):
    settings.FAL_KEY = ""
    settings.OPENAI_API_KEY = ""


def test_the_catalog_says_which_setting_enables_an_unavailable_model(alice, no_provider_keys):
    fal = alice.get("/api/models/fal-ai/flux/dev").json()["model"]
    assert fal["available"] is False
    assert fal["unavailable_reason"] == "Set FAL_KEY to enable fal models."
    local = alice.get("/api/models/local/procedural").json()["model"]
    assert (local["available"], local["unavailable_reason"]) == (True, None)
    listed = {m["id"]: m for m in alice.get("/api/models?available=false").json()["models"]}
    assert listed["openai/dall-e-3"]["unavailable_reason"] == "Set OPENAI_API_KEY to enable openai models."


def test_generating_with_an_unavailable_model_answers_503_naming_the_key(alice, no_provider_keys):
    body = assert_envelope(generate(alice, model="fal-ai/flux/dev"), 503, "provider_unavailable")
    assert body["details"] == "Set FAL_KEY to enable fal models."
    assert "fal" in body["error"]


def test_with_its_key_the_model_is_available(alice, settings):
    settings.FAL_KEY = "key-for-tests"
    fal = alice.get("/api/models/fal-ai/flux/dev").json()["model"]
    assert (fal["available"], fal["unavailable_reason"]) == (True, None)
