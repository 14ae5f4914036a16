import pytest

from gallery.models import Asset
from tests.gallery.conftest import make_asset
from tests.helpers import assert_envelope


def _create(client, name="Posters", **extra):
    response = client.post("/api/collections", {"name": name, **extra}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["collection"]


def test_collection_crud(alice):
    board = _create(alice, description="For the blog post")
    assert board["name"] == "Posters" and board["asset_count"] == 0
    listed = alice.get("/api/collections").json()
    assert [c["id"] for c in listed["collections"]] == [board["id"]]
    assert listed["pagination"]["total"] == 1
    renamed = alice.patch(f"/api/collections/{board['id']}", {"name": "Covers"}, format="json").json()
    assert renamed["collection"]["name"] == "Covers"
    assert renamed["collection"]["description"] == "For the blog post"
    assert alice.get(f"/api/collections/{board['id']}").json()["collection"]["name"] == "Covers"
    assert alice.delete(f"/api/collections/{board['id']}").json()["success"] is True
    assert_envelope(alice.get(f"/api/collections/{board['id']}"), 404, "not_found")


def test_names_are_unique_per_owner(alice, bob):
    _create(alice)
    assert_envelope(alice.post("/api/collections", {"name": "Posters"}, format="json"), 409, "conflict")
    _create(bob)
    other = _create(alice, name="Other")
    assert_envelope(alice.patch(f"/api/collections/{other['id']}", {"name": "Posters"}, format="json"), 409)
    assert_envelope(alice.post("/api/collections", {"name": ""}, format="json"), 400, "validation_error")


def test_add_list_and_remove_assets(alice):
    board = _create(alice)
    assets = [make_asset(alice.user, minutes_ago=index) for index in range(3)]
    ids = [str(a.id) for a in assets]
    added = alice.post(f"/api/collections/{board['id']}/assets", {"asset_ids": ids[:2]}, format="json").json()
    assert added["changed"] == 2 and added["collection"]["asset_count"] == 2
    listed = alice.get(f"/api/collections/{board['id']}/assets").json()
    assert [i["id"] for i in listed["images"]] == ids[:2]
    assert listed["pagination"]["total"] == 2
    cursor_page = alice.get(f"/api/collections/{board['id']}/assets?cursor=&limit=1").json()
    assert [i["id"] for i in cursor_page["images"]] == ids[:1] and cursor_page["pagination"]["has_next"]
    removed = alice.delete(f"/api/collections/{board['id']}/assets", {"asset_ids": ids[:1]}, format="json").json()
    assert removed["changed"] == 1
    assert [i["id"] for i in alice.get(f"/api/collections/{board['id']}/assets").json()["images"]] == ids[1:2]


def test_deleting_a_collection_keeps_its_assets(alice):
    board = _create(alice)
    asset = make_asset(alice.user)
    alice.post(f"/api/collections/{board['id']}/assets", {"asset_ids": [str(asset.id)]}, format="json")
    alice.delete(f"/api/collections/{board['id']}")
    assert Asset.objects.get(pk=asset.pk).collection_id is None


def test_cannot_file_someone_elses_asset(alice, bob):
    board = _create(alice)
    bobs = make_asset(bob.user)
    response = alice.post(f"/api/collections/{board['id']}/assets", {"asset_ids": [str(bobs.id)]}, format="json")
    assert_envelope(response, 404, "not_found")
    assert Asset.objects.get(pk=bobs.pk).collection_id is None


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("get", ""), ("patch", ""), ("delete", ""), ("get", "/assets"), ("post", "/assets"), ("delete", "/assets")],
)
def test_bob_gets_404_for_alices_collection(alice, bob, method, suffix):
    board = _create(alice)
    bobs = make_asset(bob.user)
    payload = {"name": "Mine now", "asset_ids": [str(bobs.id)]}
    assert_envelope(getattr(bob, method)(f"/api/collections/{board['id']}{suffix}", payload, format="json"), 404)
    assert alice.get(f"/api/collections/{board['id']}").json()["collection"]["name"] == "Posters"
    assert bob.get("/api/collections").json()["collections"] == []
