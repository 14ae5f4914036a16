import pytest

from gallery.models import Asset
from gallery.services import collection_create
from tests.gallery.conftest import body_of, make_asset, png_bytes
from tests.helpers import assert_envelope


def test_detail_answers_the_seed_shape(alice):
    asset = make_asset(alice.user, prompt="a lighthouse", model="fal-ai/flux/dev", style="noir", seed=7)
    body = alice.get(f"/api/gallery/{asset.id}").json()
    assert body["success"] is True
    image = body["image"]
    assert image["id"] == str(asset.id)
    assert (image["width"], image["height"], image["format"]) == (64, 48, "png")
    assert (image["prompt"], image["model"], image["style"], image["seed"]) == (
        "a lighthouse",
        "fal-ai/flux/dev",
        "noir",
        7,
    )
    assert image["is_favorited"] is False and image["is_public"] is False
    assert image["share_url"] is None
    assert image["url"].endswith(f"/api/gallery/{asset.id}/file")


def test_patch_favourites_publishes_and_files(alice):
    asset = make_asset(alice.user)
    board = collection_create(owner=alice.user, name="Board")
    response = alice.patch(
        f"/api/gallery/{asset.id}",
        {"is_favorited": True, "is_public": True, "collection": str(board.id)},
        format="json",
    )
    assert response.status_code == 200, response.content
    image = response.json()["image"]
    assert image["is_favorited"] is True and image["is_public"] is True
    assert image["collection_id"] == str(board.id)
    assert image["updated_at"]
    assert image["share_url"].endswith(f"/s/{asset.short_key}")
    assert [i["id"] for i in alice.get("/api/gallery/favorites/list").json()["images"]] == [str(asset.id)]
    response = alice.patch(f"/api/gallery/{asset.id}", {"collection": None, "is_favorited": False}, format="json")
    assert response.json()["image"]["collection_id"] is None
    assert response.json()["image"]["is_favorited"] is False


def test_patch_refuses_someone_elses_collection_and_bad_values(alice, bob):
    asset = make_asset(alice.user)
    bobs_board = collection_create(owner=bob.user, name="Bob's")
    body = assert_envelope(
        alice.patch(f"/api/gallery/{asset.id}", {"collection": str(bobs_board.id)}, format="json"), 400
    )
    assert "collection" in body["details"]
    assert_envelope(alice.patch(f"/api/gallery/{asset.id}", {"is_public": "maybe"}, format="json"), 400)
    assert Asset.objects.get(pk=asset.pk).collection_id is None


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("get", ""),
        ("patch", ""),
        ("delete", ""),
        ("get", "/file"),
        ("get", "/thumbnail"),
        ("get", "/download"),
        ("get", "/download?format=jpeg"),
    ],
)
def test_bob_gets_404_for_alices_asset(alice, bob, method, suffix):
    asset = make_asset(alice.user, flags={"is_public": True})
    response = getattr(bob, method)(f"/api/gallery/{asset.id}{suffix}", {"is_favorited": True}, format="json")
    assert_envelope(response, 404, "not_found")
    assert Asset.objects.get(pk=asset.pk).is_favorited is False


def test_bob_gets_404_on_the_seed_routes(alice, bob):
    asset = make_asset(alice.user)
    assert_envelope(bob.delete(f"/api/assets/{asset.id}"), 404, "not_found")
    assert_envelope(bob.get(f"/download/{asset.id}/png"), 404, "not_found")
    assert_envelope(bob.get(f"/asset/{asset.id}/download"), 404, "not_found")
    assert Asset.objects.filter(pk=asset.pk).exists()


def test_anonymous_gets_401(alice, anon):
    asset = make_asset(alice.user)
    for url in (f"/api/gallery/{asset.id}", f"/api/gallery/{asset.id}/file", f"/download/{asset.id}/png"):
        assert_envelope(anon.get(url), 401, "authentication_required")


def test_file_answers_the_original_bytes(alice, storage_backend):
    data = png_bytes(30, 20)
    asset = make_asset(alice.user, data=data, width=30, height=20)
    assert body_of(alice.get(f"/api/gallery/{asset.id}/file")) == data


@pytest.mark.parametrize(
    ("path", "message"),
    [("/api/gallery/{id}", "Image deleted successfully"), ("/api/assets/{id}", "Asset deleted successfully")],
)
def test_delete_removes_the_row_then_every_file(alice, stored, path, message):
    asset = make_asset(alice.user)
    alice.get(f"/api/gallery/{asset.id}/download?format=jpeg")
    names = [
        asset.file.name,
        Asset.objects.get(pk=asset.pk).thumbnail.name,
        f"conversions/{alice.user.pk}/{asset.id}.jpeg",
    ]
    assert all(stored(name) for name in names)
    response = alice.delete(path.format(id=asset.id))
    assert response.status_code == 200, response.content
    assert response.json() == {"success": True, "message": message}
    assert not Asset.objects.filter(pk=asset.pk).exists()
    assert not any(stored(name) for name in names)
    assert_envelope(alice.get(f"/api/gallery/{asset.id}"), 404, "not_found")


def test_a_delete_that_rolls_back_keeps_the_files(alice, stored):
    from django.db import transaction

    from gallery.services import asset_delete

    asset = make_asset(alice.user)

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        asset_delete(asset=Asset.objects.get(pk=asset.pk))
        raise Abort
    assert Asset.objects.filter(pk=asset.pk).exists()
    assert stored(asset.file.name)
