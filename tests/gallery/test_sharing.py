import io

import pytest
from PIL import Image

from gallery.models import Asset
from tests.gallery.conftest import body_of, make_asset, mp4_bytes, png_bytes


@pytest.fixture
def public(alice, storage_backend):
    return make_asset(
        alice.user, prompt="a lighthouse", data=png_bytes(50, 40), width=50, height=40, flags={"is_public": True}
    )


@pytest.mark.parametrize("viewer", ["anon", "bob"])
def test_a_public_asset_has_a_page_and_a_raw_link(request, public, storage_backend, viewer):
    client = request.getfixturevalue(viewer)
    page = client.get(f"/s/{public.short_key}")
    assert page.status_code == 200
    assert b"a lighthouse" in page.content
    assert f"/s/{public.short_key}/raw".encode() in page.content
    image = Image.open(io.BytesIO(body_of(client.get(f"/s/{public.short_key}/raw"))))
    assert image.size == (50, 40)


@pytest.mark.parametrize("viewer", ["anon", "bob"])
@pytest.mark.parametrize("flags", [{"is_public": False}, {"is_public": True, "is_nsfw": True}])
def test_private_and_nsfw_assets_are_never_reachable_by_key(request, alice, viewer, flags):
    asset = make_asset(alice.user, flags=flags)
    client = request.getfixturevalue(viewer)
    for path in (f"/s/{asset.short_key}", f"/s/{asset.short_key}/raw"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json()["type"] == "not_found"
    assert alice.get(f"/api/gallery/{asset.id}").json()["image"]["share_url"] is None


def test_unpublishing_closes_the_link(alice, anon, public):
    assert body_of(anon.get(f"/s/{public.short_key}/raw"))
    alice.patch(f"/api/gallery/{public.id}", {"is_public": False}, format="json")
    assert anon.get(f"/s/{public.short_key}/raw").status_code == 404


def test_the_owner_reaches_her_own_private_asset_by_key(alice):
    asset = make_asset(alice.user)
    assert alice.get(f"/s/{asset.short_key}").status_code == 200


def test_unknown_keys_are_404(anon):
    assert anon.get("/s/doesnotexist").status_code == 404
    assert anon.get("/video/doesnotexist").status_code == 404


def test_videos_answer_at_the_seed_video_link(alice, anon, storage_backend):
    clip = mp4_bytes()
    video = make_asset(
        alice.user, data=clip, format="mp4", width=96, height=64, type=Asset.Type.VIDEO, flags={"is_public": True}
    )
    detail = alice.get(f"/api/gallery/{video.id}").json()["image"]
    assert detail["share_url"].endswith(f"/video/{video.short_key}")
    assert body_of(anon.get(f"/video/{video.short_key}")) == clip
    assert b"<video" in anon.get(f"/s/{video.short_key}").content
    image = make_asset(alice.user, flags={"is_public": True})
    assert anon.get(f"/video/{image.short_key}").status_code == 404


def test_nsfw_assets_are_left_out_of_public_views_but_kept_for_the_owner(alice, anon):
    asset = make_asset(alice.user, flags={"is_public": True, "is_nsfw": True})
    assert anon.get(f"/s/{asset.short_key}").status_code == 404
    assert alice.get(f"/api/gallery/{asset.id}").json()["image"]["is_nsfw"] is True
    assert [i["id"] for i in alice.get("/api/gallery?nsfw=true").json()["images"]] == [str(asset.id)]
