"""The compatible APIs have an OpenAPI document of their own, and answer as it says: their
successes and their errors (in OpenAI's and A1111's shapes, not the envelope)."""

import base64

import pytest
from drf_spectacular.validation import validate_schema

from tests.ops.test_schema_truth import assert_served_as_documented

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def compat_openapi(anon) -> dict:
    response = anon.get("/api/schema/compat/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_the_document_holds_both_apis_and_the_main_one_neither(compat_openapi, anon):
    validate_schema(compat_openapi)
    paths = set(compat_openapi["paths"])
    assert {"/v1/images/generations", "/v1/images/edits", "/v1/models", "/v1/models/{model_id}"} <= paths
    assert {"/sdapi/v1/txt2img", "/sdapi/v1/progress", "/sdapi/v1/interrupt", "/sdapi/v1/png-info"} <= paths
    assert all(path.startswith(("/v1/", "/sdapi/v1/")) for path in paths)
    generations = compat_openapi["paths"]["/v1/images/generations"]["post"]["responses"]
    assert {"application/json", "text/event-stream"} <= set(generations["200"]["content"])
    main = anon.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert not [path for path in main["paths"] if path.startswith(("/v1/", "/sdapi/"))]
    assert anon.get("/api/docs/compat/").status_code == 200


def test_answers_and_errors_are_as_documented(compat_openapi, alice):
    answer = alice.post(
        "/v1/images/generations", {"prompt": "a kite", "size": "64x64", "response_format": "b64_json"}, format="json"
    )
    assert answer.status_code == 200
    assert_served_as_documented(compat_openapi, "POST", "/v1/images/generations", answer)
    bad = alice.post("/v1/images/generations", {"prompt": "a kite", "size": "huge"}, format="json")
    assert bad.status_code == 400
    assert_served_as_documented(compat_openapi, "POST", "/v1/images/generations", bad)
    assert_served_as_documented(compat_openapi, "GET", "/v1/models", alice.get("/v1/models"))
    missing = alice.get("/v1/models/nobody/nothing")
    assert missing.status_code == 404
    assert_served_as_documented(compat_openapi, "GET", "/v1/models/{model_id}", missing)

    images = alice.post("/sdapi/v1/txt2img", {"prompt": "a kite", "width": 64, "height": 64}, format="json")
    assert images.status_code == 200
    assert_served_as_documented(compat_openapi, "POST", "/sdapi/v1/txt2img", images)
    refused = alice.post("/sdapi/v1/txt2img", {"prompt": "a kite", "width": "wide"}, format="json")
    assert refused.status_code == 422
    assert_served_as_documented(compat_openapi, "POST", "/sdapi/v1/txt2img", refused)
    for path in ("/sdapi/v1/progress", "/sdapi/v1/sd-models", "/sdapi/v1/options", "/sdapi/v1/loras"):
        assert_served_as_documented(compat_openapi, "GET", path, alice.get(path))
    image = images.json()["images"][0]
    info = alice.post("/sdapi/v1/png-info", {"image": image}, format="json")
    assert_served_as_documented(compat_openapi, "POST", "/sdapi/v1/png-info", info)
    assert base64.b64decode(image)[:4] == b"\x89PNG"
