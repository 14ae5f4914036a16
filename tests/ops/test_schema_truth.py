"""The OpenAPI schema describes what is served: each answer below, success or error, validates
against the schema /api/schema/ publishes for its operation and status."""

import copy

import jsonschema
import pytest

from tests.helpers import assert_envelope, generate, generate_done
from tests.training.factories import image_files

pytestmark = pytest.mark.django_db


@pytest.fixture
def openapi(anon) -> dict:
    response = anon.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def _json_schema(node, components: dict):
    """OpenAPI 3.0's dialect as JSON Schema: references inlined, ``nullable`` as a null type, and
    ``oneOf`` read as ``anyOf`` (formats are not checked here, so "" is both a URI and blank)."""
    if isinstance(node, list):
        return [_json_schema(item, components) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _json_schema(copy.deepcopy(components[node["$ref"].rsplit("/", 1)[-1]]), components)
    out = {
        ("anyOf" if key == "oneOf" else key): _json_schema(value, components)
        for key, value in node.items()
        if key not in ("nullable", "readOnly")
    }
    if node.get("nullable"):
        out = {"anyOf": [out, {"type": "null"}]}
    return out


def assert_served_as_documented(openapi: dict, method: str, path: str, response) -> None:
    responses = openapi["paths"][path][method.lower()]["responses"]
    documented = responses.get(str(response.status_code)) or responses.get("default")
    assert documented, f"{method} {path} answered {response.status_code}, which the schema does not document"
    schema = documented["content"]["application/json"]["schema"]
    jsonschema.validate(response.json(), _json_schema(schema, openapi["components"]["schemas"]))


def test_the_named_endpoints_answer_as_the_schema_says(openapi, alice):
    generate_done(alice, width=64, height=64)
    collection = alice.post("/api/collections", {"name": "boards"}, format="json")
    assert collection.status_code == 201
    assert_served_as_documented(openapi, "POST", "/api/collections", collection)
    key = alice.post("/api/auth/keys", {"name": "laptop"}, format="json")
    assert_served_as_documented(openapi, "POST", "/api/auth/keys", key)
    for path in ("/api/auth/keys", "/api/auth/me", "/api/credits", "/api/credits/ledger", "/api/models"):
        response = alice.get(path)
        assert response.status_code == 200
        assert response.json()["success"] is True
        assert_served_as_documented(openapi, "GET", path, response)
    favorites = alice.get("/api/gallery/favorites/list")
    assert_served_as_documented(openapi, "GET", "/api/gallery/favorites/list", favorites)
    assert_served_as_documented(
        openapi, "GET", "/api/gallery/favorites/list", alice.get("/api/gallery/favorites/list", {"cursor": ""})
    )
    assert_served_as_documented(openapi, "GET", "/api/user/profile", alice.get("/api/user/profile"))
    assert_served_as_documented(openapi, "GET", "/api/user/usage", alice.get("/api/user/usage"))
    assert_served_as_documented(openapi, "GET", "/health", alice.get("/health"))


def test_the_seed_shaped_answers_are_documented(openapi, alice):
    queued = generate(alice, width=64, height=64)
    assert queued.status_code == 201, queued.content
    assert queued.json()["generation"]["message"]
    assert_served_as_documented(openapi, "POST", "/api/generate", queued)
    generation = alice.get(f"/api/generate/{queued.json()['generation']['id']}").json()["generation"]
    image_id = generation["images"][0]["id"]
    listed = alice.get("/api/gallery")
    assert {"filename", "image_url", "art_style", "dimensions", "model_used"} <= set(listed.json()["images"][0])
    assert_served_as_documented(openapi, "GET", "/api/gallery", listed)
    assert_served_as_documented(openapi, "GET", "/api/gallery", alice.get("/api/gallery", {"cursor": ""}))
    detail = alice.get(f"/api/gallery/{image_id}")
    assert detail.json()["image"]["generation"]["id"] == generation["id"]
    assert_served_as_documented(openapi, "GET", "/api/gallery/{id}", detail)
    patched = alice.patch(f"/api/gallery/{image_id}", {"is_favorited": True}, format="json")
    assert_served_as_documented(openapi, "PATCH", "/api/gallery/{id}", patched)
    uploaded = alice.post("/api/training/upload", {"files[]": image_files(3)}, format="multipart")
    assert uploaded.status_code == 200, uploaded.content
    assert_served_as_documented(openapi, "POST", "/api/training/upload", uploaded)


@pytest.mark.django_db(transaction=True)
def test_a_finished_generation_and_its_results_are_documented(openapi, alice, monkeypatch):
    # Thumbnail tasks not run yet: the answer makes the thumbnails itself.
    monkeypatch.setattr("gallery.services._enqueue_thumbnail", lambda *, asset_id: None)
    finished = alice.post("/api/generate", {"prompt": "a red kite", "model": "local"}, format="multipart")
    assert finished.status_code == 200, finished.content
    assert finished.json()["results"][0]["thumbnail_url"]
    assert_served_as_documented(openapi, "POST", "/api/generate", finished)


def test_queue_control_answers_are_documented(openapi, alice, tasks_held_from_now):
    tasks_held_from_now()
    queued = generate(alice, width=64, height=64, webhook_events_filter=["start"])
    assert queued.json()["generation"]["webhook_events_filter"] == ["start", "completed"]
    waited = alice.post(
        "/api/generate", {"model": "local", "prompt": "a kite"}, format="json", headers={"Prefer": "wait=0"}
    )
    assert waited.status_code == 202, waited.content
    assert_served_as_documented(openapi, "POST", "/api/generate", waited)
    cancelled = alice.post("/api/generate/cancel", {"status": "in_queue"}, format="json")
    assert cancelled.json()["cancelled"] == 2
    assert_served_as_documented(openapi, "POST", "/api/generate/cancel", cancelled)
    refused = alice.post("/api/generate/cancel", {}, format="json")
    assert_served_as_documented(openapi, "POST", "/api/generate/cancel", refused)
    operation = openapi["paths"]["/api/generate"]["post"]
    assert "Prefer" in {parameter["name"] for parameter in operation["parameters"]}
    assert "Preference-Applied" in operation["responses"]["202"]["headers"]


def test_lists_are_documented_as_lists_in_their_envelope(openapi):
    components = openapi["components"]["schemas"]
    favorites = openapi["paths"]["/api/gallery/favorites/list"]["get"]["responses"]["200"]
    body = _json_schema(favorites["content"]["application/json"]["schema"], components)
    assert body["properties"]["images"]["type"] == "array"
    models = openapi["paths"]["/api/models"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert _json_schema(models, components)["properties"]["models"]["type"] == "array"


def test_errors_are_documented_as_the_envelope_with_its_types(openapi, alice):
    error = openapi["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"success", "error", "details", "type", "code", "request_id", "timestamp"}
    assert "insufficient_credits" in openapi["components"]["schemas"]["ErrorTypeEnum"]["enum"]
    responses = openapi["paths"]["/api/gallery/{id}"]["get"]["responses"]
    assert {"400", "401", "403", "404", "429", "default"} <= set(responses)
    missing = alice.get("/api/gallery/00000000-0000-0000-0000-000000000000")
    assert_served_as_documented(openapi, "GET", "/api/gallery/{id}", missing)
    refused = alice.post("/api/collections", {"name": ""}, format="json")
    assert_served_as_documented(openapi, "POST", "/api/collections", refused)


def test_query_parameters_are_as_strict_as_the_code(openapi, alice):
    parameters = {p["name"]: p["schema"] for p in openapi["paths"]["/api/credits/ledger"]["get"]["parameters"]}
    assert parameters["limit"] == {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}
    assert_envelope(alice.get("/api/credits/ledger", {"limit": 101}), 400, "validation_error")
    assert alice.get("/api/credits/ledger", {"limit": 100}).status_code == 200
    models = {p["name"]: p["schema"] for p in openapi["paths"]["/api/models"]["get"]["parameters"]}
    assert models["available"] == {"type": "boolean"}
    assert_envelope(alice.get("/api/models", {"available": "null"}), 400, "validation_error")
    available = alice.get("/api/models", {"available": "true"}).json()["models"]
    assert all(model["available"] for model in available)
    assert len(alice.get("/api/models").json()["models"]) > len(available)


def test_the_webhook_answers_are_documented(openapi, staff, alice, settings):
    from tests.webhooks.receiver import Receiver

    settings.ATELIER_URL_FETCH_ALLOWED_HOSTS = ["127.0.0.1"]
    receiver = Receiver()
    try:
        created = staff.post("/admin/api/webhooks", {"url": receiver.url(), "events": ["credits.low"]}, format="json")
        assert created.status_code == 201, created.content
        assert_served_as_documented(openapi, "POST", "/admin/api/webhooks", created)
        webhook_id = created.json()["webhook"]["id"]
        one = "/admin/api/webhooks/{endpoint_id}"
        answers = [
            ("GET", "/admin/api/webhooks", staff.get("/admin/api/webhooks")),
            ("GET", one, staff.get(f"/admin/api/webhooks/{webhook_id}")),
            ("PATCH", one, staff.patch(f"/admin/api/webhooks/{webhook_id}", {"description": "ops"}, format="json")),
            ("POST", f"{one}/rotate-secret", staff.post(f"/admin/api/webhooks/{webhook_id}/rotate-secret")),
            ("POST", f"{one}/test", staff.post(f"/admin/api/webhooks/{webhook_id}/test")),
            ("GET", f"{one}/deliveries", staff.get(f"/admin/api/webhooks/{webhook_id}/deliveries")),
            ("GET", one, staff.get("/admin/api/webhooks/00000000-0000-0000-0000-000000000000")),
            ("GET", "/api/user/webhook-secret", alice.get("/api/user/webhook-secret")),
            ("POST", "/api/user/webhook-secret/rotate", alice.post("/api/user/webhook-secret/rotate")),
        ]
        delivery_id = answers[5][2].json()["deliveries"][0]["id"]
        redeliver = f"/admin/api/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver"
        answers.append(("POST", f"{one}/deliveries/{{delivery_id}}/redeliver", staff.post(redeliver)))
        for method, path, response in answers:
            assert response.status_code < 500, response.content
            assert_served_as_documented(openapi, method, path, response)
        assert [response.status_code for _, _, response in answers] == [
            200,
            200,
            200,
            200,
            202,
            200,
            404,
            200,
            200,
            202,
        ]
        assert staff.delete(f"/admin/api/webhooks/{webhook_id}").status_code == 204
    finally:
        receiver.stop()


@pytest.fixture
def tasks_held_from_now():
    """Call it to keep task messages at the (in-memory) broker from then on, as
    tests/training/conftest.py's held_tasks does from the start."""
    from config.celery import app

    eager = app.conf.task_always_eager
    yield lambda: setattr(app.conf, "task_always_eager", False)
    app.conf.task_always_eager = eager


def test_the_training_answers_are_documented(openapi, alice, bob, tasks_held_from_now):
    dataset = alice.post("/api/training/upload", {"files[]": image_files(3)}, format="multipart").json()
    body = {"dataset_id": dataset["dataset_id"], "trigger_word": "filmlook", "steps": 20}
    quote = alice.post("/api/training/start", {**body, "dry_run": True}, format="json")
    # Tasks run eagerly here: this training is finished (with its LoRA) when the answer comes.
    finished = alice.post("/api/training/start", body, format="json")
    job_id = finished.json()["training_id"]
    # Held at the broker: this one stays queued, to be cancelled.
    tasks_held_from_now()
    queued = alice.post("/api/training/start", body, format="json")
    queued_id = queued.json()["training_id"]
    lora_id = alice.get(f"/api/training/status/{job_id}").json()["lora_id"]
    status, one, lora = "/api/training/status/{id}", "/api/training/{id}", "/api/loras/{id}"
    answers = [
        ("POST", "/api/training/start", quote),
        ("POST", "/api/training/start", finished),
        ("POST", "/api/training/start", queued),
        ("GET", status, alice.get(f"/api/training/status/{job_id}")),
        ("GET", status, alice.get(f"/api/training/status/{queued_id}")),
        ("GET", "/api/training", alice.get("/api/training")),
        ("GET", one, alice.get(f"/api/training/{job_id}")),
        ("DELETE", one, alice.delete(f"/api/training/{queued_id}")),
        ("DELETE", one, alice.delete(f"/api/training/{queued_id}")),
        ("GET", "/api/loras", alice.get("/api/loras")),
        ("GET", lora, alice.get(f"/api/loras/{lora_id}")),
        ("PATCH", lora, alice.patch(f"/api/loras/{lora_id}", {"name": "Warm film"}, format="json")),
        ("PATCH", lora, alice.patch(f"/api/loras/{lora_id}", {}, format="json")),
        ("GET", lora, bob.get(f"/api/loras/{lora_id}")),
        ("GET", one, bob.get(f"/api/training/{job_id}")),
        ("POST", "/api/training/start", alice.post("/api/training/start", {"trigger_word": "x"}, format="json")),
        ("DELETE", lora, alice.delete(f"/api/loras/{lora_id}")),
    ]
    for method, path, response in answers:
        assert response.status_code < 500, response.content
        assert_served_as_documented(openapi, method, path, response)
    assert [response.status_code for _, _, response in answers] == [
        200,
        201,
        201,
        200,
        200,
        200,
        200,
        200,
        409,
        200,
        200,
        200,
        400,
        404,
        404,
        400,
        200,
    ]
    assert answers[3][2].json()["status"] == "completed" and answers[4][2].json()["status"] == "queued"
