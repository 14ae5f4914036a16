import pytest
from django.utils import timezone

from accounts.models import APIKey
from tests.helpers import assert_envelope

pytestmark = pytest.mark.django_db


def test_key_is_shown_once_stored_hashed_and_works(alice, anon):
    response = alice.post("/api/auth/keys", {"name": "laptop"}, format="json")
    assert response.status_code == 201
    key = response.json()["key"]
    assert key["secret"].startswith(f"atl_{key['prefix']}_")

    stored = APIKey.objects.get(pk=key["id"])
    assert key["secret"] not in (stored.key_hash, stored.prefix)

    listed = alice.get("/api/auth/keys").json()["keys"]
    assert "secret" not in listed[0]
    assert {k["name"] for k in listed} == {"tests", "laptop"}

    anon.credentials(HTTP_AUTHORIZATION=f"Bearer {key['secret']}")
    assert anon.get("/api/auth/me").json()["user"]["email"] == "alice@example.com"
    assert APIKey.objects.get(pk=key["id"]).last_used_at is not None


def test_revoked_key_stops_working(alice, anon):
    key = alice.post("/api/auth/keys", {"name": "old"}, format="json").json()["key"]
    assert alice.delete(f"/api/auth/keys/{key['id']}").status_code == 200
    anon.credentials(HTTP_AUTHORIZATION=f"Bearer {key['secret']}")
    assert_envelope(anon.get("/api/auth/me"), 401)
    assert [k["name"] for k in alice.get("/api/auth/keys").json()["keys"]] == ["tests"]


def test_bob_cannot_revoke_alices_key(alice, bob):
    key_id = alice.get("/api/auth/keys").json()["keys"][0]["id"]
    assert_envelope(bob.delete(f"/api/auth/keys/{key_id}"), 404, "not_found")
    assert APIKey.objects.get(pk=key_id).revoked_at is None


def test_key_name_is_required(alice):
    body = assert_envelope(alice.post("/api/auth/keys", {}, format="json"), 400, "validation_error")
    assert "name" in body["details"]


def test_deactivated_user_is_refused_with_403(alice):
    alice.user.is_active = False
    alice.user.save()
    assert_envelope(alice.get("/api/auth/me"), 403, "permission_denied")


def test_last_used_is_recorded_at_most_once_a_minute(alice):
    alice.get("/api/auth/me")
    key = APIKey.objects.get(user=alice.user)
    first = key.last_used_at
    alice.get("/api/auth/me")
    assert APIKey.objects.get(pk=key.pk).last_used_at == first
    APIKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now() - timezone.timedelta(minutes=2))
    alice.get("/api/auth/me")
    assert APIKey.objects.get(pk=key.pk).last_used_at > first
