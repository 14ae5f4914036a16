"""Deactivated accounts, sign-in limits, logout and CSRF on the sign-in routes."""

import pytest
from django.test import Client

from accounts.models import APIKey, User
from tests.helpers import assert_envelope

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"
HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def BrowserClient(**kwargs):
    """A client that asks for pages as a browser does."""
    return Client(HTTP_ACCEPT=HTML, **kwargs)


@pytest.fixture
def deactivated(alice):
    """Alice's browser, signed in, after an operator deactivated her account."""
    browser = BrowserClient()
    browser.force_login(alice.user)
    User.objects.filter(pk=alice.user.pk).update(is_active=False)
    return browser


@pytest.mark.parametrize("path", ["/", "/library", "/account"])
def test_a_deactivated_users_pages_redirect_to_the_inactive_page(deactivated, path):
    response = deactivated.get(path)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/inactive/"


def test_the_inactive_page_says_so_and_offers_to_sign_out(deactivated):
    response = deactivated.get("/accounts/inactive/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "This account is inactive" in page
    assert 'action="/accounts/logout/"' in page


def test_a_deactivated_user_cannot_create_a_key_or_edit_the_profile(deactivated, alice):
    keys_before = APIKey.objects.filter(user=alice.user).count()
    response = deactivated.post("/account/keys", {"name": "after deactivation"})
    assert response.status_code == 302
    assert b"atl_" not in response.content
    assert APIKey.objects.filter(user=alice.user).count() == keys_before
    deactivated.post("/account/profile", {"full_name": "Mallory"})
    assert User.objects.get(pk=alice.user.pk).full_name == "Alice"


@pytest.mark.parametrize("path", ["/api/credits", "/api/auth/me", "/api/models", "/api/gallery"])
def test_a_deactivated_users_session_gets_403_from_the_api(deactivated, path):
    assert_envelope(deactivated.get(path), 403, "permission_denied")


def test_a_deactivated_users_api_key_gets_403(alice):
    User.objects.filter(pk=alice.user.pk).update(is_active=False)
    assert_envelope(alice.get("/api/credits"), 403, "permission_denied")


def test_an_active_user_is_not_affected(alice):
    browser = BrowserClient()
    browser.force_login(alice.user)
    assert browser.get("/account").status_code == 200
    assert browser.get("/api/credits").status_code == 200


def test_the_sign_in_page_answers_its_failed_attempts_limit_with_429(alice, settings):
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "3/15m/ip"}
    browser = BrowserClient()
    wrong = {"login": "alice@example.com", "password": "not the password"}
    for _ in range(3):
        assert browser.post("/accounts/login/", wrong).status_code == 200
    response = browser.post("/accounts/login/", wrong)
    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    assert "Too many failed login attempts" in response.content.decode()
    # The right password is refused too while the limit holds.
    right = {"login": "alice@example.com", "password": PASSWORD}
    assert browser.post("/accounts/login/", right).status_code == 429


def test_the_sign_in_page_still_signs_in(alice):
    browser = BrowserClient()
    response = browser.post("/accounts/login/", {"login": "alice@example.com", "password": PASSWORD})
    assert response.status_code == 302
    me = browser.get("/api/auth/me", HTTP_ACCEPT="application/json")
    assert me.json()["user"]["email"] == "alice@example.com"


def test_logout_by_get_only_asks(alice):
    browser = BrowserClient()
    browser.force_login(alice.user)
    response = browser.get("/auth/logout")
    assert response.status_code == 200
    assert b'method="post"' in response.content
    assert browser.get("/api/auth/me").status_code == 200


def test_logout_by_post_needs_the_csrf_token(alice):
    browser = BrowserClient(enforce_csrf_checks=True)
    browser.force_login(alice.user)
    assert browser.post("/auth/logout").status_code == 403
    assert browser.get("/api/auth/me").status_code == 200
    browser.get("/auth/logout")  # the confirmation page sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    response = browser.post("/auth/logout", {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert_envelope(browser.get("/api/auth/me"), 401)


def test_json_login_of_a_session_client_needs_the_csrf_token(alice):
    browser = BrowserClient(enforce_csrf_checks=True)
    browser.force_login(alice.user)
    body = {"email": "alice@example.com", "password": PASSWORD}
    response = browser.post("/auth/login", body, content_type="application/json")
    assert_envelope(response, 403, "permission_denied")
    browser.get("/auth/logout")  # any page with a form sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    response = browser.post("/auth/login", body, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200


def test_a_form_post_to_json_login_needs_the_csrf_token(alice):
    """Another site's form could otherwise sign a visitor into an account of its choosing."""
    browser = BrowserClient(enforce_csrf_checks=True)
    response = browser.post("/auth/login", {"email": "alice@example.com", "password": PASSWORD})
    assert_envelope(response, 403, "permission_denied")
    assert "sessionid" not in browser.cookies


def test_json_login_without_cookies_needs_no_token(alice):
    browser = BrowserClient(enforce_csrf_checks=True)
    body = {"email": "alice@example.com", "password": PASSWORD}
    assert browser.post("/auth/login", body, content_type="application/json").status_code == 200
