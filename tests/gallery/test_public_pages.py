"""What a visitor meets before signing in: the landing page, share links that do not work (the
styled 404, never the browsable API), the favicon, and sign-up's words about email."""

import re

import pytest

from gallery.models import Asset
from tests.gallery.conftest import make_asset
from tests.helpers import signed_in

pytestmark = pytest.mark.django_db

CONSOLE = "django.core.mail.backends.console.EmailBackend"
SMTP_LIKE = "django.core.mail.backends.locmem.EmailBackend"


def test_landing_page_says_what_it_is_and_shows_only_shared_images(anon, alice):
    shared = make_asset(alice.user, prompt="a public lighthouse", flags={"is_public": True})
    private = make_asset(alice.user, prompt="a private sketch")
    sensitive = make_asset(alice.user, prompt="flagged", flags={"is_public": True, "is_nsfw": True})
    response = anon.get("/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Create a free account" in html and 'href="/accounts/signup/"' in html
    assert 'href="/accounts/login/"' in html
    assert f"/s/{shared.short_key}/raw" in html and "a public lighthouse" in html
    assert private.short_key not in html and sensitive.short_key not in html
    # Its true shape: the tile carries the picture's ratio.
    assert "--ratio: 64 / 48" in html


def test_landing_page_without_shared_images_invites_the_first(anon):
    html = anon.get("/", HTTP_ACCEPT="text/html").content.decode()
    assert "Nothing has been shared yet" in html


def _assert_styled_404(response):
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "This page does not exist" in html and 'class="error-page"' in html
    assert "Django REST framework" not in html and "api-root" not in html


def test_a_mistyped_share_link_is_the_styled_404(anon):
    _assert_styled_404(anon.get("/s/not-a-key", HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8"))
    _assert_styled_404(anon.get("/s/not-a-key/raw", HTTP_ACCEPT="text/html,*/*;q=0.8"))


def test_a_revoked_share_link_is_the_styled_404_and_json_clients_still_get_the_envelope(anon, alice):
    asset = make_asset(alice.user, prompt="was public", flags={"is_public": True})
    assert anon.get(f"/s/{asset.short_key}", HTTP_ACCEPT="text/html").status_code == 200
    Asset.objects.filter(pk=asset.pk).update(is_public=False)
    _assert_styled_404(anon.get(f"/s/{asset.short_key}", HTTP_ACCEPT="text/html"))
    api = anon.get(f"/s/{asset.short_key}", HTTP_ACCEPT="application/json")
    assert api.status_code == 404 and api.json()["type"] == "not_found"


def test_another_users_download_link_is_the_styled_404_in_a_browser(alice, bob):
    asset = make_asset(alice.user)
    _assert_styled_404(signed_in(bob.user).get(f"/asset/{asset.pk}/download?format=png", HTTP_ACCEPT="text/html"))


def test_api_paths_keep_the_browsable_api(alice):
    response = alice.get("/api/gallery/00000000-0000-0000-0000-000000000000", HTTP_ACCEPT="text/html")
    assert response.status_code == 404
    assert "This page does not exist" not in response.content.decode()


def test_favicon_is_served(anon):
    response = anon.get("/favicon.ico")
    assert response.status_code == 301
    icon = anon.get(response["Location"])
    assert icon.status_code == 200
    assert b"".join(icon.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert 'rel="icon"' in anon.get("/", HTTP_ACCEPT="text/html").content.decode()


def _sign_up(client, email):
    return client.post(
        "/accounts/signup/",
        {"email": email, "password1": "a long enough passphrase 42", "password2": "a long enough passphrase 42"},
        follow=True,
    )


def test_sign_up_does_not_promise_an_email_while_mail_goes_to_the_console(anon, settings):
    settings.EMAIL_BACKEND = CONSOLE
    html = _sign_up(anon, "new@example.com").content.decode()
    assert "does not send email yet" in html
    assert "Confirmation email sent" not in html and "We sent" not in html


def test_sign_up_says_the_confirmation_was_sent_when_mail_is_delivered(anon, settings):
    settings.EMAIL_BACKEND = SMTP_LIKE
    html = _sign_up(anon, "new@example.com").content.decode()
    assert "We sent a confirmation link to new@example.com." in html


def test_password_reset_does_not_promise_an_email_while_mail_goes_to_the_console(anon, alice, settings):
    settings.EMAIL_BACKEND = CONSOLE
    response = anon.post("/accounts/password/reset/", {"email": "alice@example.com"}, follow=True)
    html = response.content.decode()
    assert "no reset link will arrive" in html
    assert not re.search(r"link to reset its password is on its way", html)


def test_a_shared_image_invites_visitors_to_make_their_own(anon, alice):
    asset = make_asset(alice.user, prompt="shared", flags={"is_public": True})
    html = anon.get(f"/s/{asset.short_key}", HTTP_ACCEPT="text/html").content.decode()
    assert "Made with Atelier." in html and 'href="/accounts/signup/"' in html
    assert "Made with Atelier." not in signed_in(alice.user).get(f"/s/{asset.short_key}").content.decode()
