import pytest

from tests.helpers import assert_envelope

pytestmark = pytest.mark.django_db

RESOURCES = {
    "styles": {
        "name": "noir",
        "description": "Black and white crime film",
        "prompt_template": "{prompt}, film noir, hard shadows",
    },
    "formats": {"name": "banner", "description": "Web banner", "width": 1500, "height": 500},
    "prompt_examples": {"title": "Foggy pier", "prompt": "A wooden pier in fog", "category": "landscape"},
    "settings": {"name": "welcome_text", "value": "Hello", "description": "Shown on the studio page"},
}
SEED_SHAPES = {
    "styles": {"id", "name", "description", "prompt_template"},
    "formats": {"id", "name", "description", "width", "height"},
    "prompt_examples": {"id", "title", "prompt", "category"},
    "settings": {"id", "name", "value", "description"},
}


def test_seeded_catalog_is_listed_to_any_signed_in_user(alice):
    styles = {s["name"] for s in alice.get("/api/images/styles").json()}
    assert {"realistic", "modern", "classic", "abstract"} <= styles
    formats = {f["name"]: (f["width"], f["height"]) for f in alice.get("/api/images/formats").json()}
    assert formats["square_hd"] == (1024, 1024)
    assert set(formats) >= {"square", "portrait_4_3", "portrait_16_9", "landscape_4_3", "landscape_16_9"}
    examples = alice.get("/api/images/prompt_examples").json()
    assert len(examples) >= 10 and len({e["category"] for e in examples}) >= 5
    settings = {s["name"]: s for s in alice.get("/api/images/settings").json()}
    assert settings["default_steps"]["value"] == "28"
    assert settings["default_steps"]["value_type"] == "integer"
    assert {"default_model", "default_format"} <= set(settings)


@pytest.mark.parametrize("resource", RESOURCES)
def test_staff_creates_reads_updates_and_deletes(staff, alice, resource):
    base = f"/api/images/{resource}"
    created = staff.post(base, RESOURCES[resource], format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert SEED_SHAPES[resource] <= set(body)
    detail = f"{base}/{body['id']}"

    assert alice.get(detail).json() == body
    assert body in alice.get(base).json()

    changed = {**RESOURCES[resource], "description" if resource != "prompt_examples" else "prompt": "Changed"}
    updated = staff.put(detail, changed, format="json")
    assert updated.status_code == 200, updated.content
    assert alice.get(detail).json() == updated.json()
    assert updated.json()["id"] == body["id"]

    deleted = staff.delete(detail)
    assert deleted.status_code == 200
    assert deleted.json() == {"status": "success"}
    assert_envelope(alice.get(detail), 404, "not_found")


@pytest.mark.parametrize("resource", RESOURCES)
def test_users_read_but_cannot_write(alice, staff, resource):
    base = f"/api/images/{resource}"
    assert_envelope(alice.post(base, RESOURCES[resource], format="json"), 403, "permission_denied")
    item = staff.post(base, RESOURCES[resource], format="json").json()
    detail = f"{base}/{item['id']}"
    assert_envelope(alice.put(detail, RESOURCES[resource], format="json"), 403, "permission_denied")
    assert_envelope(alice.patch(detail, {"description": "x"}, format="json"), 403, "permission_denied")
    assert_envelope(alice.delete(detail), 403, "permission_denied")
    assert alice.get(detail).json() == item


@pytest.mark.parametrize("resource", RESOURCES)
def test_anonymous_is_refused(anon, resource):
    assert_envelope(anon.get(f"/api/images/{resource}"), 401, "authentication_required")


@pytest.mark.parametrize("resource", RESOURCES)
@pytest.mark.parametrize("ref", ["999999", "abc", "99999999999999999999999"])
def test_unknown_ids_are_404_for_everyone(staff, bob, resource, ref):
    detail = f"/api/images/{resource}/{ref}"
    assert_envelope(bob.get(detail), 404, "not_found")
    assert_envelope(staff.put(detail, RESOURCES[resource], format="json"), 404, "not_found")
    assert_envelope(staff.delete(detail), 404, "not_found")


def test_bob_gets_404_for_a_deleted_style(staff, bob):
    style = staff.post("/api/images/styles", RESOURCES["styles"], format="json").json()
    staff.delete(f"/api/images/styles/{style['id']}")
    assert_envelope(bob.get(f"/api/images/styles/{style['id']}"), 404)


@pytest.mark.parametrize(
    "resource, field, value",
    [
        ("styles", "name", "Realistic"),
        ("formats", "name", "SQUARE_HD"),
        ("settings", "name", "default_steps"),
        ("prompt_examples", "title", "Foggy pier"),
    ],
)
def test_names_are_unique_regardless_of_case(staff, resource, field, value):
    base = f"/api/images/{resource}"
    if resource == "prompt_examples":
        assert staff.post(base, RESOURCES[resource], format="json").status_code == 201
    payload = {**RESOURCES[resource], field: value}
    if resource == "settings":
        payload["value"] = "30"
    body = assert_envelope(staff.post(base, payload, format="json"), 400, "validation_error")
    assert field in body["details"]


def test_renaming_onto_another_name_is_refused(staff):
    modern = next(s for s in staff.get("/api/images/styles").json() if s["name"] == "modern")
    response = staff.patch(f"/api/images/styles/{modern['id']}", {"name": "classic"}, format="json")
    assert_envelope(response, 400, "validation_error")
    assert staff.get(f"/api/images/styles/{modern['id']}").json()["name"] == "modern"


@pytest.mark.parametrize("template", ["film noir, hard shadows", "{Prompt} noir", "{prompt noir"])
def test_a_style_template_without_the_prompt_slot_is_refused(staff, template):
    payload = {**RESOURCES["styles"], "prompt_template": template}
    body = assert_envelope(staff.post("/api/images/styles", payload, format="json"), 400, "validation_error")
    assert "prompt_template" in body["details"]


def test_updating_a_template_to_lose_the_slot_is_refused_and_keeps_the_old_one(staff):
    realistic = next(s for s in staff.get("/api/images/styles").json() if s["name"] == "realistic")
    detail = f"/api/images/styles/{realistic['id']}"
    assert_envelope(staff.patch(detail, {"prompt_template": "photo"}, format="json"), 400)
    assert staff.get(detail).json()["prompt_template"] == realistic["prompt_template"]


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"name": "", "description": "", "width": 10, "height": 10}, "name"),
        ({"name": "tiny", "width": 0, "height": 10}, "width"),
        ({"name": "huge", "width": 100, "height": 9000}, "height"),
        ({"name": "words", "width": "wide", "height": 10}, "width"),
    ],
)
def test_invalid_formats_are_400(staff, payload, field):
    body = assert_envelope(staff.post("/api/images/formats", payload, format="json"), 400, "validation_error")
    assert field in body["details"]


def test_put_needs_every_field_patch_does_not(staff):
    fmt = staff.post("/api/images/formats", RESOURCES["formats"], format="json").json()
    detail = f"/api/images/formats/{fmt['id']}"
    assert_envelope(staff.put(detail, {"width": 900}, format="json"), 400, "validation_error")
    patched = staff.patch(detail, {"width": 900}, format="json")
    assert patched.status_code == 200
    assert (patched.json()["width"], patched.json()["height"]) == (900, 500)


def test_prompt_examples_filter_by_category(alice):
    food = alice.get("/api/images/prompt_examples?category=food").json()
    assert food and all(example["category"] == "food" for example in food)
