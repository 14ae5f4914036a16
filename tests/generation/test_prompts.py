"""Prompt enhancement through the fake LLM servers and the offline composer."""

import pytest

from tests.fakes.llm import FakeAnthropic, FakeOpenAI
from tests.helpers import assert_envelope

pytestmark = pytest.mark.django_db

SEED_REQUEST = {
    "topic": "cat sitting",
    "model": "anthropic/claude-3-sonnet",
    "art_style": "realistic",
    "color_scheme": "warm",
    "lighting_mood": "natural",
    "subject_focus": "close-up",
    "background_style": "blurred",
    "effects_filters": "none",
}


@pytest.fixture
def fake_anthropic(settings):
    server = FakeAnthropic().start()
    settings.ANTHROPIC_API_KEY = "sk-ant-test"
    settings.ANTHROPIC_BASE_URL = server.base_url
    settings.ATELIER_PROMPT_LLM_MAX_RETRIES = 0
    yield server
    server.stop()


@pytest.fixture
def fake_openai(settings):
    server = FakeOpenAI().start()
    settings.OPENAI_API_KEY = "sk-openai-test"
    settings.OPENAI_BASE_URL = server.base_url
    settings.ATELIER_PROMPT_LLM_MAX_RETRIES = 0
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _no_llm_keys(settings):
    settings.ANTHROPIC_API_KEY = ""
    settings.OPENAI_API_KEY = ""


def test_seed_route_enhances_through_anthropic_with_every_choice(alice, fake_anthropic):
    fake_anthropic.reply = '"A magnificent orange tabby cat sitting on a windowsill, warm light"'
    response = alice.post("/generate/prompt", SEED_REQUEST, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["prompt"] == "A magnificent orange tabby cat sitting on a windowsill, warm light"
    assert body["original_topic"] == "cat sitting"
    assert body["enhancement_applied"] is True
    assert body["estimated_quality"] == "high"
    assert body["enhanced_by"] == "anthropic"
    assert body["model"] == "claude-3-sonnet"

    (request,) = fake_anthropic.requests
    headers = request["headers"]
    assert "sk-ant-test" in (headers.get("x-api-key", ""), headers.get("authorization", "").removeprefix("Bearer "))
    assert headers["anthropic-version"]
    assert request["json"]["model"] == "claude-3-sonnet"
    user_message = request["json"]["messages"][0]["content"]
    for choice in ("cat sitting", "realistic", "photorealistic", "warm", "natural", "close-up", "blurred"):
        assert choice in user_message
    assert "image prompt" in request["json"]["system"]


def test_canonical_route_enhances_through_openai(alice, fake_openai):
    fake_openai.reply = "A lighthouse on a cliff in a storm, crashing waves, dramatic light"
    payload = {"prompt": "lighthouse", "model": "openai/gpt-test", "style": "cinematic", "lighting_mood": "dramatic"}
    response = alice.post("/api/prompts/enhance", payload, format="json")
    assert response.status_code == 200, response.content
    enhancement = response.json()["enhancement"]
    assert response.json()["success"] is True
    assert enhancement["prompt"] == fake_openai.reply
    assert enhancement["enhancement_applied"] is True
    assert enhancement["enhanced_by"] == "openai"
    assert enhancement["art_style"] == "cinematic"

    (request,) = fake_openai.requests
    assert request["headers"]["authorization"] == "Bearer sk-openai-test"
    system, user = request["json"]["messages"]
    assert system["role"] == "system" and user["role"] == "user"
    assert "Topic: lighthouse" in user["content"]
    assert "Lighting mood: dramatic" in user["content"]


def test_the_configured_provider_is_used_when_no_model_is_named(alice, fake_openai):
    body = alice.post("/api/prompts/enhance", {"topic": "owl"}, format="json").json()["enhancement"]
    assert body["enhanced_by"] == "openai"
    assert fake_openai.requests[0]["json"]["model"] == "gpt-4.1-mini"


@pytest.mark.parametrize("status", [500, 401, 429])
def test_llm_error_falls_back_offline_and_says_so(alice, fake_anthropic, status):
    fake_anthropic.status = status
    body = alice.post("/generate/prompt", SEED_REQUEST, format="json").json()
    assert body["enhancement_applied"] is False
    assert body["enhanced_by"] == "offline"
    assert body["model"] is None
    assert str(status) in body["fallback_reason"]
    assert body["prompt"].startswith("cat sitting, close-up shot")
    assert "photorealistic" in body["prompt"]
    assert len(fake_anthropic.requests) == 1


def test_malformed_or_empty_llm_answers_fall_back(alice, fake_openai):
    fake_openai.malformed = True
    payload = {"topic": "fox", "model": "openai/gpt-test"}
    body = alice.post("/api/prompts/enhance", payload, format="json").json()["enhancement"]
    assert (body["enhancement_applied"], body["enhanced_by"]) == (False, "offline")
    assert body["fallback_reason"]

    fake_openai.malformed = False
    fake_openai.reply = "   "
    body = alice.post("/api/prompts/enhance", payload, format="json").json()["enhancement"]
    assert body["enhancement_applied"] is False
    assert "empty" in body["fallback_reason"]


def test_unreachable_llm_falls_back(alice, settings):
    settings.ANTHROPIC_API_KEY = "sk-ant-test"
    settings.ANTHROPIC_BASE_URL = "http://127.0.0.1:9"
    settings.ATELIER_PROMPT_LLM_MAX_RETRIES = 0
    body = alice.post("/generate/prompt", SEED_REQUEST, format="json").json()
    assert body["enhancement_applied"] is False
    assert "Connection" in body["fallback_reason"]


def test_a_model_without_its_key_falls_back_and_says_why(alice):
    body = alice.post("/generate/prompt", SEED_REQUEST, format="json").json()
    assert body["enhancement_applied"] is False
    assert "not configured" in body["fallback_reason"]


def test_offline_enhancement_is_deterministic_and_weaves_every_choice(alice):
    payload = {**SEED_REQUEST, "model": "offline"}
    first = alice.post("/generate/prompt", payload, format="json").json()
    second = alice.post("/generate/prompt", payload, format="json").json()
    assert first == second
    assert first["prompt"] == (
        "cat sitting, close-up shot, softly blurred background with shallow depth of field, "
        "warm color palette of amber, gold and soft red tones, soft natural lighting, photorealistic, "
        "professional photography, natural textures, sharp focus, high detail"
    )
    assert first["enhancement_applied"] is False
    assert first["enhanced_by"] == "offline"
    assert first["fallback_reason"] is None
    assert first["estimated_quality"] == "medium"


def test_offline_without_any_key_and_free_text_choices(alice):
    payload = {"topic": "  a  tram ", "color_scheme": "teal and orange", "effects_filters": "Film_Grain"}
    body = alice.post("/api/prompts/enhance", payload, format="json").json()["enhancement"]
    assert (
        body["prompt"]
        == "a tram, teal and orange color scheme, subtle film grain, highly detailed, balanced composition"
    )
    assert body["original_topic"] == "a tram"
    assert body["enhanced_by"] == "offline"


def test_the_offline_provider_setting_skips_the_llm(alice, staff, fake_anthropic):
    setting = next(s for s in staff.get("/api/images/settings").json() if s["name"] == "prompt_enhancement_provider")
    staff.patch(f"/api/images/settings/{setting['id']}", {"value": "offline"}, format="json")
    body = alice.post("/api/prompts/enhance", {"topic": "owl"}, format="json").json()["enhancement"]
    assert body["enhanced_by"] == "offline"
    assert fake_anthropic.requests == []


@pytest.mark.parametrize(
    "payload, field",
    [
        ({}, "topic"),
        ({"topic": "   "}, "topic"),
        ({"topic": "cat", "art_style": "baroque-glitch"}, "art_style"),
        ({"topic": "cat", "model": "mistral/large"}, "model"),
        ({"topic": "cat", "color_scheme": "x" * 101}, "color_scheme"),
    ],
)
def test_invalid_requests_are_400(alice, payload, field):
    for path in ("/generate/prompt", "/api/prompts/enhance"):
        body = assert_envelope(alice.post(path, payload, format="json"), 400, "validation_error")
        assert field in body["details"]


def test_enhancement_needs_a_signed_in_user(anon):
    assert_envelope(anon.post("/api/prompts/enhance", {"topic": "cat"}, format="json"), 401)


def test_enhancement_counts_against_the_prompt_rate_limit_group(alice, settings):
    settings.RATELIMIT_ENABLE = True
    settings.ATELIER_RATE_LIMITS = {**settings.ATELIER_RATE_LIMITS, "prompt": "2/m"}
    for path in ("/api/prompts/enhance", "/generate/prompt"):
        assert alice.post(path, {"topic": "owl"}, format="json").status_code == 200
    refused = alice.post("/api/prompts/enhance", {"topic": "owl"}, format="json")
    assert_envelope(refused, 429, "rate_limited")
    assert alice.get("/api/images/styles").status_code == 200
