"""Hostile requests are client errors in the envelope, never a 500 (issue: hostile input)."""

import uuid

import pytest
from django.test import Client as DjangoClient
from django.test import override_settings

from tests.helpers import assert_envelope, generate

pytestmark = pytest.mark.django_db

MANY_FIELDS = "&".join(f"f{i}=x" for i in range(1001))


@pytest.mark.parametrize("enforce_csrf", [False, True])
def test_more_than_1000_form_fields_on_login_are_a_400(anon, enforce_csrf):
    browser = DjangoClient(enforce_csrf_checks=enforce_csrf)
    response = browser.post("/auth/login", MANY_FIELDS, content_type="application/x-www-form-urlencoded")
    # A CSRF-checking client without the token is refused first (403); neither is a 500.
    body = assert_envelope(response, 403 if enforce_csrf else 400)
    assert body["error"] == ("Permission denied" if enforce_csrf else "Too many form fields")


def test_more_than_1000_form_fields_on_the_api_are_a_400(alice):
    response = alice.post("/api/generate", MANY_FIELDS, content_type="application/x-www-form-urlencoded")
    assert assert_envelope(response, 400, "validation_error")["error"] == "Too many form fields"


def test_more_than_1000_query_parameters_are_a_400(alice):
    assert_envelope(alice.get(f"/api/gallery?{MANY_FIELDS}"), 400, "validation_error")


def test_more_than_100_files_are_a_400(alice):
    files = {f"file{i}": _upload(f"f{i}.png") for i in range(101)}
    response = alice.post("/api/generate", {"prompt": "x", **files}, format="multipart")
    assert assert_envelope(response, 400, "validation_error")["error"] == "Too many files"


def test_a_form_field_over_the_memory_limit_is_a_413(alice):
    response = alice.post("/api/generate", {"prompt": "x" * (2_621_440 + 10)}, format="multipart")
    assert_envelope(response, 413, "payload_too_large")


def test_a_webhook_body_over_the_memory_limit_is_a_413(anon):
    body = b"{" + b" " * 2_700_000 + b"}"
    response = anon.post(f"/api/webhooks/fal/{uuid.uuid4()}", body, content_type="application/json")
    assert_envelope(response, 413, "payload_too_large")


@pytest.mark.parametrize("enforce_csrf", [False, True])
def test_a_urlencoded_login_over_the_memory_limit_is_refused_in_the_envelope(enforce_csrf):
    browser = DjangoClient(enforce_csrf_checks=enforce_csrf)
    body = "email=a%40b.c&password=" + "x" * 2_700_000
    response = browser.post("/auth/login", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code in (400, 403, 413)
    assert_envelope(response, response.status_code)


@pytest.mark.parametrize("body", [b"null", b"[1]", b'"text"', b"3", b"true"])
@pytest.mark.parametrize("path", ["/api/images/generate", "/generate/image", "/api/generate", "/api/auth/keys"])
def test_a_json_body_that_is_not_an_object_is_a_400(alice, path, body):
    response = alice.post(path, body, content_type="application/json")
    assert_envelope(response, 400, "parse_error")


@pytest.mark.parametrize("provider", ["fal", "replicate"])
@pytest.mark.parametrize("timestamp", ["9" * 400, "²", "1e9", " 1700000000", "-1", "٣"])
def test_a_webhook_timestamp_that_is_not_plain_seconds_is_a_401(anon, settings, provider, timestamp):
    settings.REPLICATE_WEBHOOK_SIGNING_SECRET = "whsec_" + "A" * 32
    headers = {
        "fal": {
            "HTTP_X_FAL_WEBHOOK_REQUEST_ID": "req-1",
            "HTTP_X_FAL_WEBHOOK_USER_ID": "user-1",
            "HTTP_X_FAL_WEBHOOK_TIMESTAMP": timestamp,
            "HTTP_X_FAL_WEBHOOK_SIGNATURE": "00" * 64,
        },
        "replicate": {
            "HTTP_WEBHOOK_ID": "msg_1",
            "HTTP_WEBHOOK_TIMESTAMP": timestamp,
            "HTTP_WEBHOOK_SIGNATURE": "v1,AAAA",
        },
    }[provider]
    response = anon.post(f"/api/webhooks/{provider}/{uuid.uuid4()}", b"{}", content_type="application/json", **headers)
    body = assert_envelope(response, 401, "authentication_required")
    assert body["error"] == "Webhook timestamp is not a number"


@pytest.mark.parametrize("value", ["²", "٣", "1_0", " 2", "99999999999999999999999"])
@pytest.mark.parametrize("name", ["page", "limit"])
def test_page_numbers_are_ascii_digits_within_bounds(alice, name, value):
    assert_envelope(alice.get("/api/generate", {name: value}), 400, "validation_error")


@pytest.mark.parametrize("path", ["/api/nothing-here", "/api/generate/not-an-id/nothing", "/api/v1/posts"])
def test_unmatched_api_urls_answer_the_envelope_even_with_debug_on(anon, path):
    with override_settings(DEBUG=True):
        response = anon.get(path, HTTP_ACCEPT="text/html")
    body = assert_envelope(response, 404, "not_found")
    assert "URLconf" not in response.content.decode()
    assert set(body) >= {"success", "error", "type", "code", "request_id", "timestamp"}


def test_an_unmatched_page_keeps_the_html_404(anon):
    response = anon.get("/nothing-here", HTTP_ACCEPT="text/html")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def _upload(name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, b"\x89PNG\r\n\x1a\n", content_type="image/png")


@pytest.mark.parametrize("accept", ["text/html", "application/json"])
def test_too_many_fields_on_a_plain_django_page_is_a_400(anon, accept):
    browser = DjangoClient(enforce_csrf_checks=True)
    browser.get("/accounts/login/")
    # The CSRF check reads the token from the form: the whole form is parsed there, in middleware.
    body = f"csrfmiddlewaretoken={browser.cookies['csrftoken'].value}&{MANY_FIELDS}"
    response = browser.post(
        "/accounts/login/", body, content_type="application/x-www-form-urlencoded", HTTP_ACCEPT=accept
    )
    assert response.status_code == 400
    if accept == "application/json":
        assert_envelope(response, 400)


@pytest.mark.parametrize("accept", ["text/html", "application/json"])
def test_an_oversized_form_on_a_plain_django_page_is_a_413(anon, accept):
    browser = DjangoClient(enforce_csrf_checks=True)
    browser.get("/accounts/login/")
    body = f"csrfmiddlewaretoken={browser.cookies['csrftoken'].value}&password=" + "x" * 2_700_000
    response = browser.post(
        "/accounts/login/", body, content_type="application/x-www-form-urlencoded", HTTP_ACCEPT=accept
    )
    assert response.status_code == 413
    if accept == "application/json":
        assert_envelope(response, 413, "payload_too_large")


@pytest.mark.parametrize("value", ["²", "٣", "-1", "1e3", "9" * 40, " 1"])
def test_a_last_event_id_that_is_not_plain_digits_is_a_400(alice, value):
    generation_id = generate(alice, width=64, height=64).json()["generation"]["id"]
    response = alice.get(f"/api/generate/{generation_id}/events", HTTP_LAST_EVENT_ID=value)
    assert_envelope(response, 400, "validation_error")


def test_a_plain_last_event_id_resumes_the_stream(alice):
    generation_id = generate(alice, width=64, height=64).json()["generation"]["id"]
    response = alice.get(f"/api/generate/{generation_id}/events", HTTP_LAST_EVENT_ID="0")
    assert response.status_code == 200
    assert b"event:" in b"".join(response.streaming_content)
