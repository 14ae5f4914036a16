import re

import pytest

from gallery.models import Asset
from tests.gallery.conftest import make_asset
from tests.helpers import generate_done, signed_in


@pytest.fixture
def alices_image(alice):
    generation = generate_done(alice, prompt="a lighthouse at dusk", seed=7, art_style="watercolor")
    return Asset.objects.get(pk=generation["images"][0]["id"])


def test_library_and_asset_pages_need_a_signed_in_user(anon, alices_image):
    for path in ("/library", f"/asset/{alices_image.pk}"):
        response = anon.get(path, HTTP_ACCEPT="text/html")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_library_shows_the_owners_assets_only(alice, bob, alices_image):
    make_asset(bob.user, prompt="bob's secret")
    html = signed_in(alice.user).get("/library").content.decode()
    assert f"/asset/{alices_image.pk}" in html
    assert "bob&#x27;s secret" not in html
    assert signed_in(bob.user).get("/library").content.decode().count('class="tile"') == 1


def test_library_filters_by_type_and_favourites(alice, alices_image):
    video = make_asset(alice.user, prompt="a clip", flags={"type": Asset.Type.VIDEO})
    web = signed_in(alice.user)
    html = web.get("/library", {"type": "video"}).content.decode()
    assert f"/asset/{video.pk}" in html and f"/asset/{alices_image.pk}" not in html
    assert "Nothing matches these filters" in web.get("/library", {"favorites": "true"}).content.decode()


def test_library_scrolls_by_cursor_without_repeating(alice):
    assets = [make_asset(alice.user, prompt=f"tile {n}", minutes_ago=n) for n in range(30)]
    web = signed_in(alice.user)
    first = web.get("/library").content.decode()
    next_url = re.search(r'hx-get="(/library\?[^"]+)"', first).group(1).replace("&amp;", "&")
    second = web.get(next_url, HTTP_HX_REQUEST="true")
    assert second.status_code == 200
    page = second.content.decode()
    assert "<html" not in page  # only the tiles of the next page
    seen = set(re.findall(r'data-asset="([0-9a-f-]+)"', first)) | set(re.findall(r'data-asset="([0-9a-f-]+)"', page))
    assert seen == {str(asset.pk) for asset in assets}
    assert 'hx-trigger="revealed"' not in page


def test_a_broken_cursor_shows_the_first_page_with_a_notice(alice, alices_image):
    response = signed_in(alice.user).get("/library", {"cursor": "not-a-cursor"})
    assert response.status_code == 200
    assert "no longer valid" in response.content.decode()


def test_asset_page_shows_prompt_parameters_downloads_and_reuse_link(alice, alices_image):
    html = signed_in(alice.user).get(f"/asset/{alices_image.pk}").content.decode()
    assert "a lighthouse at dusk" in html
    for fmt in ("png", "jpeg", "webp"):
        assert f"/asset/{alices_image.pk}/download?format={fmt}" in html
    reuse = re.search(r'href="(/\?[^"]+)">Use all settings', html).group(1)
    assert reuse == f"/?from_asset={alices_image.pk}"
    # The studio it opens is filled with every setting of the image.
    studio = signed_in(alice.user).get(reuse).content.decode()
    assert "a lighthouse at dusk</textarea>" in studio and 'value="7"' in studio
    assert re.search(r'<option value="watercolor"\s+selected', studio)


def test_asset_page_of_another_users_asset_is_a_404(alice, bob, alices_image):
    response = signed_in(bob.user).get(f"/asset/{alices_image.pk}", HTTP_ACCEPT="text/html")
    assert response.status_code == 404
    assert "Traceback" not in response.content.decode()
    for action in ("favorite", "public", "delete"):
        assert signed_in(bob.user).post(f"/asset/{alices_image.pk}/{action}").status_code == 404
    alices_image.refresh_from_db()
    assert not alices_image.is_favorited and not alices_image.is_public


def test_favourite_toggle_answers_the_button_for_htmx(alice, alices_image):
    web = signed_in(alice.user)
    response = web.post(f"/asset/{alices_image.pk}/favorite", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'aria-pressed="true"' in response.content.decode()
    alices_image.refresh_from_db()
    assert alices_image.is_favorited
    web.post(f"/asset/{alices_image.pk}/favorite", HTTP_HX_REQUEST="true")
    alices_image.refresh_from_db()
    assert not alices_image.is_favorited


def test_making_an_asset_public_shows_a_working_share_link(alice, anon, alices_image):
    response = signed_in(alice.user).post(
        f"/asset/{alices_image.pk}/public", {"is_public": "1"}, HTTP_HX_REQUEST="true"
    )
    share_url = re.search(r'id="share-url" type="text" value="([^"]+)"', response.content.decode()).group(1)
    assert share_url.endswith(f"/s/{alices_image.short_key}")
    assert anon.get(share_url.replace("http://testserver", ""), HTTP_ACCEPT="text/html").status_code == 200
    signed_in(alice.user).post(f"/asset/{alices_image.pk}/public", {"is_public": "0"})
    alices_image.refresh_from_db()
    assert not alices_image.is_public


def test_deleting_from_the_asset_page_and_in_bulk(alice, bob, alices_image):
    others = [make_asset(alice.user) for _ in range(2)]
    bobs = make_asset(bob.user)
    web = signed_in(alice.user)
    response = web.post(f"/asset/{alices_image.pk}/delete")
    assert response.status_code == 302 and response["Location"] == "/library"
    response = web.post("/library/delete", {"ids": [str(a.pk) for a in others] + [str(bobs.pk), "junk"]}, follow=True)
    assert "Deleted 2 items." in response.content.decode()
    assert list(Asset.objects.filter(owner=alice.user)) == []
    assert Asset.objects.filter(pk=bobs.pk).exists()


def test_library_filters_by_the_style_a_generation_used(alice, alices_image):
    plain = Asset.objects.get(pk=generate_done(alice, prompt="no style")["images"][0]["id"])
    web = signed_in(alice.user)
    html = web.get("/library").content.decode()
    assert 'value="watercolor"' in html  # offered in the style filter
    filtered = web.get("/library", {"style": "watercolor"}).content.decode()
    assert f"/asset/{alices_image.pk}" in filtered and f"/asset/{plain.pk}" not in filtered


def test_a_video_asset_page_has_a_player_and_its_own_format_only(alice):
    video = make_asset(alice.user, prompt="a clip", flags={"type": Asset.Type.VIDEO, "format": "mp4"})
    html = signed_in(alice.user).get(f"/asset/{video.pk}").content.decode()
    assert f'<video src="/api/gallery/{video.pk}/file"' in html
    assert "download?format=mp4" in html and "download?format=webp" not in html


def test_unknown_filter_values_are_reported_not_a_500(alice, alices_image):
    response = signed_in(alice.user).get("/library", {"type": "sculpture", "date_from": "yesterday"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Some filters were ignored" in html
    assert f"/asset/{alices_image.pk}" in html


def test_library_and_asset_pages_use_human_words(alice):
    generation = generate_done(alice, prompt="a banner", image_size="landscape_16_9", art_style="3d-render")
    asset = Asset.objects.get(pk=generation["images"][0]["id"])
    web = signed_in(alice.user)
    library = web.get("/library").content.decode()
    # Filter menus and tiles name the model and style, not their ids.
    assert '<option value="local/procedural" >Local procedural renderer</option>' in library
    assert ">3D render</option>" in library
    assert ">local/procedural<" not in library and "3d-render<" not in library
    page = web.get(f"/asset/{asset.pk}").content.decode()
    assert "<dd>Local procedural renderer</dd>" in page and "<dd>3D render</dd>" in page
    assert "<dd>1 credit</dd>" in page
    # Its true shape: the tile carries the picture's ratio (16:9), the picture is not cropped square.
    assert f'data-asset="{asset.pk}" style="--ratio: {asset.width} / {asset.height}"' in library
    assert abs(asset.width / asset.height - 16 / 9) < 0.01


def test_each_tile_has_its_own_labelled_checkbox_for_the_selection(alice):
    assets = [make_asset(alice.user, prompt=f"tile {n}") for n in range(2)]
    html = signed_in(alice.user).get("/library").content.decode()
    for asset in assets:
        assert re.search(
            rf'<label class="select"[^>]*><span class="visually-hidden">Select this image: tile \d</span>'
            rf'<input type="checkbox" name="ids" value="{asset.pk}" form="bulk-delete">',
            html,
        )


def test_library_lists_filters_by_and_files_into_collections(alice, bob):
    kept, other = make_asset(alice.user, prompt="kept"), make_asset(alice.user, prompt="other")
    created = alice.post("/api/collections", {"name": "Lighthouses"}, format="json").json()["collection"]
    alice.post(f"/api/collections/{created['id']}/assets", {"asset_ids": [str(kept.pk)]}, format="json")
    web = signed_in(alice.user)
    html = web.get("/library").content.decode()
    assert f'<option value="{created["id"]}" >Lighthouses (1)</option>' in html
    assert 'id="collect-form" data-collections-url="/api/collections"' in html
    assert "kept</span>" in html and "· Lighthouses" in html
    filtered = web.get("/library", {"collection": created["id"]}).content.decode()
    assert "<h1>Lighthouses</h1>" in filtered
    assert f"/asset/{kept.pk}" in filtered and f"/asset/{other.pk}" not in filtered
    # Bob neither sees Alice's collection nor anything through its id.
    bobs = signed_in(bob.user).get("/library", {"collection": created["id"]}).content.decode()
    assert "Lighthouses" not in bobs and "Nothing matches these filters" in bobs


def test_account_usage_names_models_in_words(alice):
    generate_done(alice, prompt="a kite", num_images=2)
    html = signed_in(alice.user).get("/account").content.decode()
    assert '<span class="badge">Local procedural renderer · 2 images</span>' in html
    assert ">local/procedural · " not in html
