import jwt
import pytest
import time_machine
from django.test import Client as BrowserClient
from django.utils import timezone

from accounts.models import User
from accounts.services import user_create
from tests.fakes.google_certs import FakeGoogleCerts
from tests.helpers import assert_envelope

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


@pytest.fixture
def google(settings):
    fake = FakeGoogleCerts()
    settings.GOOGLE_CERTS_URL = fake.url
    yield fake
    fake.close()


@pytest.fixture
def carol(db):
    return user_create(email="carol@example.com", password=PASSWORD, username="carol-admin")


def _login(browser, payload, **extra):
    return browser.post("/auth/login", payload, content_type="application/json", **extra)


def test_email_and_password_login_starts_a_session(carol):
    browser = BrowserClient()
    response = _login(browser, {"email": "carol@example.com", "password": PASSWORD})
    assert response.status_code == 200
    assert response.json() == {"success": True, "redirect_url": "/"}
    assert browser.get("/api/auth/me").json()["user"]["email"] == "carol@example.com"


def test_username_and_password_login(carol):
    browser = BrowserClient()
    assert _login(browser, {"username": "carol-admin", "password": PASSWORD}).status_code == 200


@pytest.mark.parametrize(
    "payload",
    [
        {"email": "carol@example.com", "password": "wrong"},
        {"email": "nobody@example.com", "password": PASSWORD},
        {"username": "carol", "password": PASSWORD},
    ],
)
def test_bad_credentials_are_a_401_in_seed_001_shape(carol, payload):
    response = _login(BrowserClient(), payload)
    body = assert_envelope(response, 401)
    assert body["message"] == "Invalid credentials"
    assert body["error"] == "Invalid credentials"


def test_incomplete_login_body_is_a_400():
    assert_envelope(_login(BrowserClient(), {"email": "carol@example.com"}), 400, "validation_error")


def test_inactive_user_cannot_log_in(carol):
    carol.is_active = False
    carol.save()
    assert_envelope(_login(BrowserClient(), {"email": "carol@example.com", "password": PASSWORD}), 403)


def test_a_deactivated_users_session_is_refused_with_403(carol):
    browser = BrowserClient()
    _login(browser, {"email": "carol@example.com", "password": PASSWORD})
    User.objects.filter(pk=carol.pk).update(is_active=False)
    assert_envelope(browser.get("/api/credits"), 403, "permission_denied")


def test_logout_ends_the_session_and_redirects_to_login(carol):
    browser = BrowserClient()
    _login(browser, {"email": "carol@example.com", "password": PASSWORD})
    response = browser.post("/auth/logout")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert_envelope(browser.get("/api/auth/me"), 401)


def test_session_expires_after_24_hours_idle_and_is_renewed_by_use(carol):
    browser = BrowserClient()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        _login(browser, {"email": "carol@example.com", "password": PASSWORD})
        clock.shift(timezone.timedelta(hours=23))
        assert browser.get("/api/auth/me").status_code == 200
        clock.shift(timezone.timedelta(hours=23))
        assert browser.get("/api/auth/me").status_code == 200
        clock.shift(timezone.timedelta(hours=25))
        assert_envelope(browser.get("/api/auth/me"), 401)


def test_google_sign_in_creates_then_reuses_the_account(google, settings):
    browser = BrowserClient()
    token = google.token(audience=settings.GOOGLE_CLIENT_ID)
    assert _login(browser, {"credential": token}).json()["success"] is True
    user = User.objects.get(email="gina@example.com")
    assert user.full_name == "Gina Google"
    assert user.credit_account.balance == settings.ATELIER_STARTING_CREDITS
    assert browser.get("/api/auth/me").json()["user"]["email"] == "gina@example.com"
    assert _login(BrowserClient(), {"credential": google.token(audience=settings.GOOGLE_CLIENT_ID)}).status_code == 200
    assert User.objects.filter(email="gina@example.com").count() == 1


@pytest.mark.parametrize(
    "overrides",
    [
        {"exp": 1_000_000_000, "iat": 999_999_000},
        {"aud": "someone-else.apps.googleusercontent.com"},
        {"iss": "https://evil.example.com"},
        {"email_verified": False},
    ],
)
def test_bad_google_tokens_are_refused(google, settings, overrides):
    claims = {"audience": settings.GOOGLE_CLIENT_ID, **overrides}
    audience = claims.pop("audience")
    token = google.token(audience=claims.pop("aud", audience), **claims)
    assert_envelope(_login(BrowserClient(), {"credential": token}), 401)
    assert not User.objects.filter(email="gina@example.com").exists()


def test_unsigned_and_foreign_signed_google_tokens_are_refused(google, settings):
    unsigned = jwt.encode(
        {"iss": "accounts.google.com", "aud": settings.GOOGLE_CLIENT_ID, "sub": "1", "email": "gina@example.com"},
        key=None,
        algorithm="none",
    )
    assert_envelope(_login(BrowserClient(), {"credential": unsigned}), 401)
    other = FakeGoogleCerts()
    try:
        forged = other.token(audience=settings.GOOGLE_CLIENT_ID)
    finally:
        other.close()
    assert_envelope(_login(BrowserClient(), {"credential": forged}), 401)
    assert not User.objects.filter(email="gina@example.com").exists()


def test_allauth_pages_render_in_the_site_layout(anon):
    for path in ("/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"):
        page = anon.get(path, headers={"Accept": "text/html"})
        assert page.status_code == 200
        assert b'class="brand"' in page.content


def test_allauth_signup_gets_credits_and_can_use_the_api(settings):
    browser = BrowserClient()
    response = browser.post(
        "/accounts/signup/",
        {"email": "dora@example.com", "password1": "a long password 1", "password2": "a long password 1"},
    )
    assert response.status_code == 302
    user = User.objects.get(email="dora@example.com")
    assert user.credit_account.balance == settings.ATELIER_STARTING_CREDITS
    assert browser.get("/api/credits").json()["credits"]["remaining"] == settings.ATELIER_STARTING_CREDITS
