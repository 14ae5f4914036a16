"""Art styles, catalog formats and expand_prompt as a generation sees them."""

import pytest

from tests.fakes.llm import FakeAnthropic
from tests.helpers import assert_envelope, generate, generate_done

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_llm_keys(settings):
    settings.ANTHROPIC_API_KEY = ""
    settings.OPENAI_API_KEY = ""


def test_a_style_changes_the_final_prompt_the_generation_shows(alice):
    plain = generate_done(alice, prompt="a lighthouse at sunset")
    styled = generate_done(alice, prompt="a lighthouse at sunset", art_style="classic")
    assert plain["final_prompt"] == "a lighthouse at sunset"
    assert styled["prompt"] == "a lighthouse at sunset"
    assert styled["final_prompt"] == (
        "a lighthouse at sunset, classical oil painting, old masters style, rich brushwork, chiaroscuro, museum quality"
    )
    assert styled["params"]["art_style"] == "classic"
    assert "photograph" in styled["negative_prompt"]
    assert styled["status"] == "completed"


def test_style_is_an_alias_and_names_ignore_case(alice):
    generation = generate_done(alice, prompt="a fox", style="Abstract", negative_prompt="text")
    assert generation["final_prompt"].startswith("abstract art inspired by a fox")
    assert generation["params"]["art_style"] == "abstract"
    assert generation["negative_prompt"].startswith("text, blurry")


def test_a_style_edited_by_staff_applies_to_the_next_generation(alice, staff):
    style = next(s for s in staff.get("/api/images/styles").json() if s["name"] == "modern")
    staff.patch(f"/api/images/styles/{style['id']}", {"prompt_template": "bauhaus poster of {prompt}"}, format="json")
    assert generate_done(alice, prompt="a chair", art_style="modern")["final_prompt"] == "bauhaus poster of a chair"


def test_an_unknown_style_is_a_400_and_charges_nothing(alice):
    before = alice.get("/api/credits").json()
    body = assert_envelope(generate(alice, art_style="vaporwave-xyz"), 400, "validation_error")
    assert "art_style" in body["details"]
    assert alice.get("/api/generate").json()["pagination"]["total"] == 0
    assert alice.get("/api/credits").json() == before


def test_image_size_accepts_a_format_created_by_staff(alice, staff):
    staff.post("/api/images/formats", {"name": "banner", "width": 768, "height": 256}, format="json")
    generation = generate_done(alice, image_size="banner")
    assert (generation["width"], generation["height"]) == (768, 256)
    preset = generate_done(alice, image_size="landscape_4_3")
    assert (preset["width"], preset["height"]) == (1365, 1024)
    body = assert_envelope(generate(alice, image_size="poster_a0"), 400, "validation_error")
    assert "banner" in body["details"]["image_size"][0]


def test_a_format_resized_by_staff_changes_the_size(alice, staff):
    square = next(f for f in staff.get("/api/images/formats").json() if f["name"] == "square")
    staff.patch(f"/api/images/formats/{square['id']}", {"width": 640, "height": 640}, format="json")
    generation = generate_done(alice, image_size="square")
    assert (generation["width"], generation["height"]) == (640, 640)


def test_expand_prompt_offline_uses_the_composer_and_the_style(alice):
    generation = generate_done(alice, prompt="a red fox", art_style="watercolor", expand_prompt=True)
    assert generation["prompt"] == "a red fox"
    assert generation["final_prompt"].startswith("a red fox")
    assert "watercolor painting" in generation["final_prompt"]
    assert generation["params"]["prompt_enhancement"] == "offline"
    again = generate_done(alice, prompt="a red fox", art_style="watercolor", expand_prompt=True)
    assert again["final_prompt"] == generation["final_prompt"]


def test_expand_prompt_through_the_llm(alice, settings):
    server = FakeAnthropic().start()
    try:
        settings.ANTHROPIC_API_KEY = "sk-ant-test"
        settings.ANTHROPIC_BASE_URL = server.base_url
        settings.ATELIER_PROMPT_LLM_MAX_RETRIES = 0
        server.reply = "A sleek red fox in fresh snow at dawn, watercolor washes"
        generation = generate_done(alice, prompt="a red fox", art_style="watercolor", expand_prompt=True)
        assert generation["final_prompt"] == server.reply
        assert generation["params"]["prompt_enhancement"] == "anthropic"
        assert "Topic: a red fox" in server.requests[0]["json"]["messages"][0]["content"]

        server.status = 503
        fallback = generate_done(alice, prompt="a red fox", expand_prompt=True)
        assert fallback["status"] == "completed"
        assert fallback["params"]["prompt_enhancement"] == "offline"
        assert fallback["final_prompt"].startswith("a red fox, highly detailed")
    finally:
        server.stop()
