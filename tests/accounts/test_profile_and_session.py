import pytest
from django.test import Client

from accounts.models import User
from accounts.services import user_create
from tests.helpers import assert_envelope

pytestmark = pytest.mark.django_db


def test_profile_read_and_update(alice):
    me = alice.get("/api/auth/me").json()["user"]
    assert me["email"] == "alice@example.com"
    assert me["full_name"] == "Alice"
    updated = alice.patch(
        "/api/auth/me", {"full_name": "Alice Liddell", "avatar_url": "https://example.com/a.png"}, format="json"
    )
    assert updated.json()["user"]["full_name"] == "Alice Liddell"
    assert User.objects.get(email="alice@example.com").avatar_url == "https://example.com/a.png"


def test_profile_update_rejects_bad_avatar_and_email_change(alice):
    assert_envelope(alice.patch("/api/auth/me", {"avatar_url": "not a url"}, format="json"), 400)
    alice.patch("/api/auth/me", {"email": "mallory@example.com"}, format="json")
    assert alice.get("/api/auth/me").json()["user"]["email"] == "alice@example.com"


def test_new_user_gets_the_starting_grant(settings, db):
    settings.ATELIER_STARTING_CREDITS = 25
    user = user_create(email="new@example.com", password="a long password")
    assert user.credit_account.balance == 25
    assert user.ledger_entries.get().kind == "grant"


def test_session_requests_need_csrf(db):
    user_create(email="carol@example.com", password="a long password")
    browser = Client(enforce_csrf_checks=True)
    assert browser.login(email="carol@example.com", password="a long password")
    assert browser.get("/api/auth/me").json()["user"]["email"] == "carol@example.com"
    refused = browser.post("/api/auth/keys", {"name": "x"}, content_type="application/json")
    assert_envelope(refused, 403, "permission_denied")
    token = browser.get("/admin/login/").cookies["csrftoken"].value
    allowed = browser.post(
        "/api/auth/keys", {"name": "x"}, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert allowed.status_code == 201


def test_email_is_unique_case_insensitively(db):
    user_create(email="dave@example.com", password="a long password")
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        user_create(email="DAVE@example.com", password="a long password")
