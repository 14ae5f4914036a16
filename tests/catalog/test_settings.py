import pytest

from tests.helpers import assert_envelope

pytestmark = pytest.mark.django_db


def _setting(client, name: str) -> dict:
    return next(s for s in client.get("/api/images/settings").json() if s["name"] == name)


@pytest.mark.parametrize(
    "name, value",
    [
        ("default_steps", "many"),
        ("default_steps", "500"),
        ("default_format", "gif"),
        ("default_model", "no/such-model"),
        ("prompt_enhancement_provider", "mistral"),
    ],
)
def test_platform_settings_refuse_values_the_platform_cannot_use(staff, name, value):
    setting = _setting(staff, name)
    response = staff.patch(f"/api/images/settings/{setting['id']}", {"value": value}, format="json")
    body = assert_envelope(response, 400, "validation_error")
    assert "value" in body["details"]
    assert _setting(staff, name)["value"] == setting["value"]


def test_a_known_setting_keeps_its_type(staff):
    setting = _setting(staff, "default_steps")
    response = staff.patch(f"/api/images/settings/{setting['id']}", {"value_type": "string"}, format="json")
    assert "value_type" in assert_envelope(response, 400)["details"]


@pytest.mark.parametrize(
    "value_type, value, ok",
    [
        ("integer", "12", True),
        ("integer", "1.5", False),
        ("float", "1.5", True),
        ("boolean", "yes", True),
        ("boolean", "maybe", False),
        ("json", '{"a": [1, 2]}', True),
        ("json", "{a:", False),
    ],
)
def test_free_settings_are_checked_against_their_type(staff, value_type, value, ok):
    payload = {"name": "operator_note", "value": value, "value_type": value_type}
    response = staff.post("/api/images/settings", payload, format="json")
    if ok:
        assert response.status_code == 201, response.content
        assert response.json()["value"] == value
    else:
        assert_envelope(response, 400, "validation_error")


def test_default_format_and_steps_reach_the_generation(staff, alice):
    from catalog.models import AIModel

    AIModel.objects.filter(pk="local/procedural").update(supports=["negative_prompt", "seed", "num_inference_steps"])
    fmt = _setting(staff, "default_format")
    staff.patch(f"/api/images/settings/{fmt['id']}", {"value": "webp"}, format="json")
    steps = _setting(staff, "default_steps")
    staff.patch(f"/api/images/settings/{steps['id']}", {"value": "12"}, format="json")

    generation = alice.post("/api/generate", {"prompt": "a red kite"}, format="json").json()["generation"]
    assert generation["output_format"] == "webp"
    assert generation["params"]["num_inference_steps"] == 12

    explicit = alice.post("/api/generate", {"prompt": "a kite", "format": "png", "steps": 5}, format="json")
    assert explicit.json()["generation"]["output_format"] == "png"
    assert explicit.json()["generation"]["params"]["num_inference_steps"] == 5


def test_default_model_setting_picks_the_model_when_none_is_named(staff, alice):
    from catalog.models import AIModel

    AIModel.objects.create(
        id="local/second", name="Second local", provider="local", kind="text-to-image", min_width=64, min_height=64
    )
    setting = _setting(staff, "default_model")
    assert setting["value"] == ""
    assert alice.post("/api/generate", {"prompt": "a"}, format="json").json()["generation"]["model"] == (
        "local/procedural"
    )
    response = staff.patch(f"/api/images/settings/{setting['id']}", {"value": "local/second"}, format="json")
    assert response.status_code == 200
    assert alice.post("/api/generate", {"prompt": "a"}, format="json").json()["generation"]["model"] == "local/second"
