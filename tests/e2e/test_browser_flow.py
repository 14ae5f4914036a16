"""A person uses the web UI in a real browser, from signing up to sharing and an API key."""

import io
import re

import pytest
from PIL import Image

from accounts.models import User
from credits.services import credits_admin_adjust

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long enough passphrase 42"


def _sign_up(page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/signup/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(f"{base}/")


def _balance(page) -> int:
    return int(page.locator("#credits-balance").inner_text())


def test_sign_up_generate_find_favourite_download_share_and_create_a_key(live_server, new_page, screenshot):
    base = live_server.url
    page = new_page()

    page.goto(f"{base}/accounts/login/")
    screenshot(page, "sign-in")
    _sign_up(page, base, "carol@example.com")
    before = _balance(page)

    # Generate two images with the offline renderer and watch the job to its end.
    page.get_by_label("Prompt", exact=True).fill("a lighthouse on a cliff at sunset, warm light")
    page.get_by_label("Model").select_option("local/procedural")
    page.get_by_label("Images").select_option("2")
    page.get_by_role("spinbutton", name="Seed").fill("1234")
    assert page.locator("#cost").inner_text() == "2 credits"
    page.get_by_role("button", name="Generate").click()
    job = page.locator("article.job").first
    results = job.locator(".results img")
    results.nth(1).wait_for()
    assert job.locator("[data-role=status]").inner_text() == "Done"
    history = [int(value) for value in job.locator("[data-role=progress]").get_attribute("data-history").split(",")]
    assert history == sorted(history) and history[-1] == 100
    assert any(0 < value < 100 for value in history), history  # it advanced, not jumped
    assert "Rendered image 2 of 2" in job.locator("[data-role=log]").inner_text()
    page.wait_for_function("() => document.querySelector('.studio .results img').naturalWidth > 0")
    assert int(page.locator("#credits-balance").inner_text()) == before - 2
    screenshot(page, "studio")

    # The library has both; favourite the first one.
    page.get_by_role("link", name="Library").click()
    tiles = page.locator(".asset-grid .tile")
    assert tiles.count() == 2
    page.wait_for_function("() => [...document.querySelectorAll('.tile img')].every(i => i.complete && i.naturalWidth)")
    first = tiles.first
    first.get_by_role("button", name="Add to favourites").click()
    first.get_by_role("button", name="Remove from favourites").wait_for()
    screenshot(page, "library")
    page.get_by_label("Favourites only").check()
    page.wait_for_function("() => document.querySelectorAll('.asset-grid .tile').length === 1")
    assert "favorites=true" in page.url

    # Its page: favourite shown, download as WebP, make it public.
    page.locator(".asset-grid .tile a").first.click()
    page.wait_for_url(re.compile(r".*/asset/[0-9a-f-]{36}$"))
    page.wait_for_function("() => document.querySelector('.asset-media img').naturalWidth > 0")
    assert page.get_by_role("button", name="Remove from favourites").is_visible()
    assert "a lighthouse on a cliff at sunset" in page.locator(".prompt-text").inner_text()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="WEBP").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".webp")
    with open(download.path(), "rb") as downloaded:
        image = Image.open(io.BytesIO(downloaded.read()))
        image.load()
    assert image.format == "WEBP" and image.size == (1024, 1024)

    page.get_by_role("button", name="Make public").click()
    share_url = page.locator("#share-url").input_value()
    assert re.search(r"/s/[\w-]+$", share_url)
    screenshot(page, "asset")
    reuse = page.get_by_role("link", name="Use all settings").get_attribute("href")
    assert reuse == f"/?from_asset={page.url.rsplit('/', 1)[-1]}"

    # Anyone with the link sees the image, without signing in.
    stranger = new_page()
    stranger.goto(share_url)
    stranger.wait_for_function("() => document.querySelector('figure.share img').naturalWidth > 0")
    assert "a lighthouse on a cliff at sunset" in stranger.locator("figcaption").inner_text()
    screenshot(stranger, "share")
    # The landing page shows visitors what people share.
    stranger.goto(f"{base}/")
    stranger.wait_for_function("() => document.querySelector('.showcase img').naturalWidth > 0")
    assert "a lighthouse on a cliff at sunset" in stranger.locator(".showcase").inner_text()
    screenshot(stranger, "landing")

    # An API key: shown once, and it works.
    page.get_by_role("link", name="Account").click()
    page.get_by_label("Key name").fill("my script")
    page.get_by_role("button", name="Create key").click()
    secret = page.locator("#new-secret").input_value()
    assert secret.startswith("atl_")
    api = stranger.context.request
    answer = api.get(f"{base}/api/credits", headers={"Authorization": f"Bearer {secret}"})
    assert answer.status == 200 and answer.json()["credits"]["remaining"] == before - 2
    assert page.locator("#api-keys").get_by_text("my script").count() >= 1
    screenshot(page, "account", full_page=True)

    assert page.errors == [] and stranger.errors == []


def test_insufficient_credits_are_explained_in_the_page(live_server, new_page, screenshot):
    base = live_server.url
    page = new_page()
    _sign_up(page, base, "dave@example.com")
    credits_admin_adjust(
        user=User.objects.get(email="dave@example.com"), action="set", amount=0, reason="test", actor=None
    )
    page.reload()
    assert _balance(page) == 0

    page.get_by_label("Prompt", exact=True).fill("a quiet harbour")
    page.get_by_role("button", name="Generate").click()
    error = page.locator("#form-error .alert-error")
    error.wait_for()
    assert "Insufficient credits" in error.inner_text()
    assert "Traceback" not in page.content()
    assert page.locator("article.job").count() == 0
    assert _balance(page) == 0
    assert page.errors == []


def test_inpainting_with_an_uploaded_image_and_mask(live_server, new_page, tmp_path):
    """The studio sends the reference image and the mask as a multipart form; only the masked
    half of the picture is repainted."""
    from gallery.models import Asset

    source = Image.new("RGB", (256, 192), (30, 120, 200))
    source.save(tmp_path / "photo.png")
    mask = Image.new("L", (256, 192), 0)
    mask.paste(255, (128, 0, 256, 192))
    mask.save(tmp_path / "mask.png")

    page = new_page()
    _sign_up(page, live_server.url, "erin@example.com")
    page.get_by_label("Model").select_option("local/inpainting")
    page.get_by_label("Prompt", exact=True).fill("a field of sunflowers")
    page.get_by_label("Reference image").set_input_files(str(tmp_path / "photo.png"))
    page.get_by_label("Mask").set_input_files(str(tmp_path / "mask.png"))
    page.get_by_role("button", name="Generate").click()
    job = page.locator("article.job").first
    job.locator(".results img").first.wait_for()
    assert job.locator("[data-role=status]").inner_text() == "Done"

    asset = Asset.objects.get(owner__email="erin@example.com")
    with asset.file.open("rb") as handle:
        result = Image.open(io.BytesIO(handle.read())).convert("RGB")
    assert result.size == (256, 192)
    assert result.crop((0, 0, 128, 192)).tobytes() == source.crop((0, 0, 128, 192)).tobytes()
    assert result.crop((128, 0, 256, 192)).tobytes() != source.crop((128, 0, 256, 192)).tobytes()
    assert page.errors == []
