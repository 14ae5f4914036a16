"""``collection`` on ``POST /api/generate``: the images go into one of the caller's collections."""

import uuid

import pytest

from tests.helpers import assert_envelope, credits_remaining, generate, generate_done

pytestmark = pytest.mark.django_db


def test_images_go_into_the_named_collection(alice):
    trip = alice.post("/api/collections", {"name": "Trip"}, format="json").json()["collection"]
    done = generate_done(alice, width=64, height=64, num_images=2, collection=trip["id"])
    assert done["collection"] == trip["id"]
    assert {image["collection_id"] for image in done["images"]} == {trip["id"]}
    listed = alice.get(f"/api/gallery?collection={trip['id']}").json()["images"]
    assert sorted(image["id"] for image in listed) == sorted(image["id"] for image in done["images"])


def test_someone_elses_or_an_unknown_collection_is_a_400_and_charges_nothing(alice, bob):
    bobs = bob.post("/api/collections", {"name": "Bob's"}, format="json").json()["collection"]
    before = credits_remaining(alice)
    for ref in (bobs["id"], str(uuid.uuid4())):
        body = assert_envelope(generate(alice, width=64, height=64, collection=ref), 400, "validation_error")
        assert "collection" in body["details"]
    assert credits_remaining(alice) == before
    assert bob.get(f"/api/gallery?collection={bobs['id']}").json()["images"] == []
