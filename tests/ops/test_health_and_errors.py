import subprocess
import sys

import pytest

from tests.helpers import assert_envelope

pytestmark = pytest.mark.django_db


def test_health_lists_each_check(anon):
    response = anon.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {"database", "cache", "storage"} <= set(body["checks"])
    assert all(check["status"] == "ok" for check in body["checks"].values())


@pytest.mark.redis
def test_health_checks_the_broker_when_redis_is_configured(anon):
    checks = anon.get("/health").json()["checks"]
    assert checks["broker"]["status"] == "ok"


def test_health_reports_a_failing_check_as_503(anon, settings):
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "tests.ops.broken_storage.BrokenStorage"}}
    response = anon.get("/health")
    assert response.status_code == 503
    assert response.json()["checks"]["storage"]["status"] == "error"


def test_request_id_is_on_success_and_error_and_kept_from_the_client(anon, alice):
    assert anon.get("/health")["X-Request-ID"].startswith("req_")
    assert anon.get("/api/credits")["X-Request-ID"].startswith("req_")
    response = alice.get("/api/credits", headers={"X-Request-ID": "client-abc-123"})
    assert response["X-Request-ID"] == "client-abc-123"
    error = alice.get("/api/generate/00000000-0000-0000-0000-000000000000", headers={"X-Request-ID": "trace-1"})
    assert assert_envelope(error, 404)["request_id"] == "trace-1"


def test_an_unsafe_client_request_id_is_replaced(anon):
    response = anon.get("/health", headers={"X-Request-ID": "bad id\twith spaces"})
    assert response["X-Request-ID"].startswith("req_")


def test_unknown_api_path_is_a_404_envelope(anon):
    assert_envelope(anon.get("/api/nothing-here"), 404, "not_found")


def test_unknown_page_for_a_browser_is_an_html_404(anon):
    response = anon.get("/nothing-here", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert b"<html" in response.content


def test_wrong_method_is_a_405_envelope(alice):
    assert_envelope(alice.put("/api/credits", {}, format="json"), 405, "method_not_allowed")


def test_unhandled_error_is_a_500_envelope_without_a_traceback(alice, monkeypatch):
    import credits.api

    def explode(**kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(credits.api, "credits_summary", explode)
    alice.raise_request_exception = False
    response = alice.get("/api/credits")
    body = assert_envelope(response, 500, "server_error")
    assert "secret internals" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert body["error"] == "Internal server error"


def test_production_settings_refuse_to_start_without_secrets(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings.production"}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_settings_prepare_statements_on_postgresql():
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "x" * 50,
        "DATABASE_URL": "postgres://atelier@db.invalid:5432/atelier",
    }
    show = "from django.conf import settings; print(settings.DATABASES['default'].get('OPTIONS'))"
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {show}"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    pool = "'pool': {'min_size': 1, 'max_size': 10, 'timeout': 20.0}"
    assert result.stdout.strip() == "{'server_side_binding': True, 'prepare_threshold': 5, " + pool + "}"
    env["DB_PREPARED_STATEMENTS"] = "false"
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {show}"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "server_side_binding" not in result.stdout
