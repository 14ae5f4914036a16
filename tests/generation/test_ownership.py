import pytest

from tests.helpers import assert_envelope, generate_done

pytestmark = pytest.mark.django_db


@pytest.fixture
def alices_generation(alice):
    return generate_done(alice, width=128, height=128)


def test_bob_gets_404_for_alices_generation_asset_and_file(alices_generation, bob):
    generation = alices_generation
    asset = alices_generation["images"][0]
    assert_envelope(bob.get(f"/api/generate/{generation['id']}"), 404, "not_found")
    assert_envelope(bob.delete(f"/api/generate/{generation['id']}"), 404, "not_found")
    assert_envelope(bob.get(f"/api/gallery/{asset['id']}"), 404, "not_found")
    assert_envelope(bob.get(asset["url"]), 404, "not_found")
    assert bob.get("/api/gallery").json()["images"] == []


def test_owner_sees_their_asset(alices_generation, alice):
    asset = alices_generation["images"][0]
    body = alice.get(f"/api/gallery/{asset['id']}").json()
    assert body["image"]["id"] == asset["id"]


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/api/generate"),
        ("post", "/api/generate"),
        ("get", "/api/gallery"),
        ("get", "/api/credits"),
        ("get", "/api/credits/ledger"),
        ("get", "/api/auth/me"),
        ("get", "/api/models"),
    ],
)
def test_anonymous_gets_401_in_the_envelope(anon, method, path):
    response = getattr(anon, method)(path)
    assert_envelope(response, 401, "authentication_required")
    assert response["WWW-Authenticate"] == "Bearer"


def test_anonymous_cannot_fetch_a_file(alices_generation, anon):
    assert_envelope(anon.get(alices_generation["images"][0]["url"]), 401)


def test_a_wrong_or_revoked_key_is_refused(alice, anon):
    anon.credentials(HTTP_AUTHORIZATION="Bearer atl_deadbeef_not-a-real-secret")
    assert_envelope(anon.get("/api/credits"), 401)
    key_id = alice.get("/api/auth/keys").json()["keys"][0]["id"]
    alice.delete(f"/api/auth/keys/{key_id}")
    assert_envelope(alice.get("/api/credits"), 401)
