import re

from accounts.models import APIKey
from tests.helpers import generate_done, signed_in


def test_account_page_needs_a_signed_in_user(anon):
    response = anon.get("/account", HTTP_ACCEPT="text/html")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_account_page_shows_plan_balance_ledger_and_usage_chart(alice):
    generate_done(alice, num_images=3)
    html = signed_in(alice.user).get("/account").content.decode()
    balance = alice.get("/api/credits").json()["credits"]["remaining"]
    assert f'<div class="stat" id="account-balance">{balance}</div>' in html
    assert f'<span id="credits-balance" data-credits="{balance}">{balance}</span>' in html  # the header
    assert '<td class="num amount-neg">-3</td>' in html
    assert '<svg class="chart"' in html
    bars = re.findall(r'<rect class="bar"[^>]*height="([\d.]+)"', html)
    assert len(bars) >= 28 and sum(float(h) > 0 for h in bars) == 1
    assert "3 images" in html


def test_creating_a_key_shows_the_secret_once_and_it_works(alice, anon):
    web = signed_in(alice.user)
    response = web.post("/account/keys", {"name": "laptop"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    secret = re.search(r'id="new-secret" type="text" value="([^"]+)"', response.content.decode()).group(1)
    anon.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert anon.get("/api/credits").status_code == 200
    assert secret not in web.get("/account").content.decode()


def test_a_key_without_a_name_is_refused_in_the_page(alice):
    response = signed_in(alice.user).post("/account/keys", {"name": ""}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.content.decode()
    assert not APIKey.objects.filter(user=alice.user, name="").exists()


def test_revoking_a_key_and_bob_cannot_revoke_alices(alice, bob):
    key = APIKey.objects.get(user=alice.user, name="tests")
    assert signed_in(bob.user).post(f"/account/keys/{key.pk}/revoke").status_code == 404
    key.refresh_from_db()
    assert key.is_active
    response = signed_in(alice.user).post(f"/account/keys/{key.pk}/revoke")
    assert response.status_code == 302
    key.refresh_from_db()
    assert not key.is_active


def test_profile_name_is_saved(alice):
    response = signed_in(alice.user).post("/account/profile", {"full_name": "Alice Liddell"}, follow=True)
    assert "Profile saved." in response.content.decode()
    alice.user.refresh_from_db()
    assert alice.user.full_name == "Alice Liddell"


def test_sign_in_and_sign_up_pages_use_the_sites_look(anon, alice):
    for path in ("/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"):
        html = anon.get(path).content.decode()
        assert 'href="/static/css/atelier.css"' in html
        assert 'class="card auth-card"' in html
    web = signed_in(alice.user)
    for path in ("/accounts/logout/", "/accounts/password/change/"):
        assert 'class="card auth-card"' in web.get(path).content.decode()
    assert "Continue with Google" not in anon.get("/accounts/login/").content.decode()


def test_the_google_button_shows_when_a_google_app_is_configured(anon, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {
        "google": {"APPS": [{"client_id": "atelier.apps.googleusercontent.com", "secret": "s"}], "SCOPE": ["email"]}
    }
    html = anon.get("/accounts/login/").content.decode()
    assert "Continue with Google" in html
    assert 'href="/accounts/google/login/?process=login"' in html
