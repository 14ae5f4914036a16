"""Production and development settings: HTTPS, HSTS, CSP, database connections."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
# The environment docs/production.md documents for production (no DJANGO_DEBUG, TLS at the proxy).
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "k3Q9-production-like-secret-of-sufficient-length-and-variety-7Zp2x!Lr",
    "DJANGO_ALLOWED_HOSTS": "atelier.example.com",
}


def _run(code_or_args, *, env: dict, tmp_path) -> subprocess.CompletedProcess:
    base = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_", "DB_"))}
    base.setdefault("DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    args = code_or_args if isinstance(code_or_args, list) else ["-c", code_or_args]
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120
    )


def _setting(module: str, expression: str, tmp_path, **env) -> str:
    code = f"import django, os; django.setup(); from django.conf import settings; print({expression})"
    result = _run(code, env={**PRODUCTION_ENV, **env, "DJANGO_SETTINGS_MODULE": module}, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_check_deploy_is_clean_with_the_documented_environment(tmp_path):
    result = _run(["manage.py", "check", "--deploy"], env=PRODUCTION_ENV, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    issues = set(re.findall(r"\(([a-z_]+\.[EW]\d+)\)", result.stdout + result.stderr))
    # The OpenAPI schema's own warnings are checked by tests/ops/test_schema_and_admin.py.
    assert {issue for issue in issues if not issue.startswith("drf_spectacular.")} == set()


def test_production_redirects_to_https_and_sends_hsts_by_default(tmp_path):
    values = _setting(
        "config.settings.production",
        "settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS, settings.SESSION_COOKIE_SECURE",
        tmp_path,
    )
    assert values == "True 31536000 True"


def test_production_https_settings_follow_the_environment(tmp_path):
    values = _setting(
        "config.settings.production",
        "settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS",
        tmp_path,
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_SECURE_HSTS_SECONDS="0",
    )
    assert values == "False 0"


def test_development_on_postgres_keeps_no_connection_open(tmp_path):
    postgres = {"DATABASE_URL": "postgres://atelier@127.0.0.1:5432/atelier"}
    assert _setting("config.settings.dev", "settings.DATABASES['default']['CONN_MAX_AGE']", tmp_path, **postgres) == "0"
    # With the pool (the default) connections go back to it after each request; Django keeps none.
    production = _setting(
        "config.settings.production", "settings.DATABASES['default']['CONN_MAX_AGE']", tmp_path, **postgres
    )
    assert production == "0"
    pool = _setting(
        "config.settings.production", "settings.DATABASES['default']['OPTIONS']['pool']", tmp_path, **postgres
    )
    assert pool == "{'min_size': 1, 'max_size': 10, 'timeout': 20.0}"
    # Without it, a connection outlives its request for DB_CONN_MAX_AGE seconds.
    unpooled = {"DB_POOL": "false", **postgres}
    assert (
        _setting("config.settings.production", "settings.DATABASES['default']['CONN_MAX_AGE']", tmp_path, **unpooled)
        == "60"
    )
    tuned = _setting(
        "config.settings.production",
        "settings.DATABASES['default']['CONN_MAX_AGE']",
        tmp_path,
        DB_CONN_MAX_AGE="300",
        **unpooled,
    )
    assert tuned == "300"


def test_production_redirects_plain_http_and_answers_https_with_hsts(settings, anon):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_REDIRECT_EXEMPT = [r"^health$"]
    redirect = anon.get("/accounts/login/")
    assert redirect.status_code == 301
    assert redirect["Location"] == "https://testserver/accounts/login/"
    response = anon.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 200
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    # Load balancers probe the health check over plain HTTP.
    assert anon.get("/health").status_code == 200


@pytest.mark.parametrize("path", ["/accounts/login/", "/api/docs/", "/nothing-here"])
def test_html_pages_carry_a_content_security_policy(anon, path):
    response = anon.get(path, HTTP_ACCEPT="text/html")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "object-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-eval" not in policy


def test_the_api_docs_page_runs_no_inline_script(anon):
    page = anon.get("/api/docs/").content.decode()
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>\s*\S", page) == []


def test_json_answers_carry_no_policy(alice):
    assert "Content-Security-Policy" not in alice.get("/api/credits")
