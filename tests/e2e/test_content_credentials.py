"""The "Content credentials" panel in a real browser: on the owner's asset page and on the public
share page, for an image signed by the local test signer."""

import io
from urllib.parse import urlparse

import pytest
from django.core.management import call_command
from django.test import Client as BrowserClient

from gallery.models import Asset
from tests.helpers import generate_done

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def signing(settings, tmp_path):
    out = io.StringIO()
    call_command("c2pa_test_signer", "--dir", str(tmp_path / "c2pa"), stdout=out)
    for line in out.getvalue().split():
        name, value = line.split("=", 1)
        setattr(settings, name, value)


def _signed_in(page, base: str, user) -> None:
    browser_client = BrowserClient()
    browser_client.force_login(user)
    cookie = browser_client.cookies["sessionid"]
    page.context.add_cookies(
        [{"name": "sessionid", "value": cookie.value, "domain": urlparse(base).hostname, "path": "/"}]
    )


def test_the_panel_shows_who_signed_the_image_and_how_it_was_made(live_server, new_page, screenshot, signing, alice):
    base = live_server.url
    generation = generate_done(alice, prompt="a lighthouse on a cliff at dusk", width=512, height=512, seed=5)
    asset = Asset.objects.get(pk=generation["images"][0]["id"])
    page = new_page()
    _signed_in(page, base, alice.user)

    page.goto(f"{base}/asset/{asset.pk}")

    panel = page.locator("[data-role=content-credentials]")
    assert panel.get_attribute("data-state") == "valid"
    assert panel.get_by_role("heading", name="Content credentials").is_visible()
    text = panel.inner_text()
    assert "Verified" in text and "an AI model (trained algorithmic media)" in text
    assert "local/procedural" in text and "Atelier test signer" in text

    Asset.objects.filter(pk=asset.pk).update(is_public=True)
    stranger = new_page()
    stranger.goto(f"{base}/s/{asset.short_key}")
    stranger.wait_for_function("() => document.querySelector('figure.share img').naturalWidth > 0")
    shared = stranger.locator("[data-role=content-credentials]")
    assert shared.get_attribute("data-state") == "valid"
    assert "Verified" in shared.inner_text()
    screenshot(stranger, "share-credentials", full_page=True)
    assert not page.errors and not stranger.errors
