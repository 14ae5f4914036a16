"""The gallery as seeds 003 and 004 document it, beside the canonical fields: seed 004's list items
(filename, image_url, art_style, dimensions, model_used) and seed 003's image details with the
generation that made the image."""

import pytest

from tests.gallery.conftest import make_asset
from tests.helpers import LOCAL_MODEL, assert_envelope, generate_done

pytestmark = pytest.mark.django_db

SEED_004_ITEM = {"filename", "image_url", "art_style", "dimensions", "model_used"}


def test_list_items_carry_seed_004s_fields(alice):
    asset = make_asset(alice.user, prompt="Beautiful landscape", model="fal-ai/flux-pro/v1.1", style="realistic")
    response = alice.get("/api/gallery", {"page": 1, "limit": 20, "style": "realistic", "format": "png"})
    assert response.status_code == 200, response.content
    [item] = response.json()["images"]
    assert item["filename"] == f"{asset.id}.png"
    assert item["image_url"] == item["url"]
    assert item["image_url"].endswith(f"/api/gallery/{asset.id}/file")
    assert item["art_style"] == "realistic"
    assert item["dimensions"] == {"width": 64, "height": 48}
    assert item["model_used"] == "fal-ai/flux-pro/v1.1"
    assert (item["prompt"], item["file_size"]) == ("Beautiful landscape", asset.file_size)
    assert item["thumbnail_url"].endswith(f"/api/gallery/{asset.id}/thumbnail")
    assert alice.get(item["image_url"]).status_code == 200


def test_an_asset_without_a_style_has_a_blank_art_style(alice):
    make_asset(alice.user)
    [item] = alice.get("/api/gallery").json()["images"]
    assert item["art_style"] == ""
    assert item["style"] == ""


def test_cursor_pages_and_favourites_carry_them_too(alice):
    asset = make_asset(alice.user, flags={"is_favorited": True})
    for response in (
        alice.get("/api/gallery", {"cursor": ""}),
        alice.get("/api/gallery/favorites/list"),
    ):
        [item] = response.json()["images"]
        assert SEED_004_ITEM <= set(item)
        assert item["id"] == str(asset.id)


def test_lists_show_only_the_callers_assets(alice, bob):
    make_asset(alice.user)
    assert bob.get("/api/gallery").json()["images"] == []
    assert bob.get("/api/gallery/favorites/list").json()["images"] == []


def test_detail_has_the_generation_that_made_the_image(alice):
    generation = generate_done(alice, width=64, height=64, prompt="A beautiful sunset over mountains")
    [image] = generation["images"]
    response = alice.get(f"/api/gallery/{image['id']}")
    assert response.status_code == 200, response.content
    detail = response.json()["image"]
    assert detail["generation"] == {
        "id": generation["id"],
        "prompt": "A beautiful sunset over mountains",
        "model": LOCAL_MODEL,
        "created_at": generation["created_at"],
        # Which API asked for it: the canonical one here.
        "api": "atelier",
    }
    assert (detail["id"], detail["width"], detail["height"]) == (image["id"], 64, 64)
    assert (detail["is_favorited"], detail["is_public"]) == (False, False)
    assert detail["created_at"] == image["created_at"]
    assert SEED_004_ITEM <= set(detail)


def test_patch_answers_the_detail_with_its_generation(alice):
    generation = generate_done(alice, width=64, height=64)
    image_id = generation["images"][0]["id"]
    response = alice.patch(f"/api/gallery/{image_id}", {"is_favorited": True}, format="json")
    assert response.status_code == 200, response.content
    image = response.json()["image"]
    assert (image["id"], image["is_favorited"], image["is_public"]) == (image_id, True, False)
    assert image["updated_at"]
    assert image["generation"]["id"] == generation["id"]


def test_an_asset_no_generation_made_has_a_null_generation(alice):
    asset = make_asset(alice.user)
    assert alice.get(f"/api/gallery/{asset.id}").json()["image"]["generation"] is None


def test_bob_gets_404_for_the_detail_of_alices_generated_image(alice, bob):
    generation = generate_done(alice, width=64, height=64)
    image_id = generation["images"][0]["id"]
    assert_envelope(bob.get(f"/api/gallery/{image_id}"), 404, "not_found")
    assert_envelope(bob.patch(f"/api/gallery/{image_id}", {"is_public": True}, format="json"), 404, "not_found")
    assert alice.get(f"/api/gallery/{image_id}").json()["image"]["is_public"] is False
