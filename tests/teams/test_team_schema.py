"""The OpenAPI schema documents the team header, the team key and the team fields."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(anon):
    response = anon.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def _header_names(operation) -> set[str]:
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}


def test_routes_that_act_as_a_team_list_the_header_and_the_team_key(schema):
    paths = schema["paths"]
    for path, method in [
        ("/api/generate", "post"),
        ("/api/generate", "get"),
        ("/api/gallery", "get"),
        ("/api/gallery/{id}", "delete"),
        ("/api/collections", "post"),
        ("/api/training/start", "post"),
        ("/api/loras", "get"),
    ]:
        operation = paths[path][method]
        assert "X-Atelier-Team" in _header_names(operation), (method, path)
        assert {"teamKey": []} in operation["security"], (method, path)
    credits = paths["/api/credits"]["get"]
    assert "X-Atelier-Team" not in _header_names(credits)
    assert {"teamKey": []} not in credits["security"]
    assert schema["components"]["securitySchemes"]["teamKey"]["scheme"] == "bearer"


def test_objects_and_team_routes_are_described(schema):
    components = schema["components"]["schemas"]
    for name in ("Generation", "Asset", "Collection"):
        assert "team" in components[name]["properties"], name
    for path in ("/api/teams", "/api/teams/{team_id}/members/{user_id}", "/api/teams/{team_id}/credits"):
        assert path in schema["paths"], path
    assert "/admin/api/teams/{team_id}/credits" in schema["paths"]
