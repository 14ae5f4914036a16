import pytest
from django.core.management import call_command
from django.test import Client

from catalog.models import AIModel
from credits.models import CreditAccount, LedgerEntry
from gallery.models import Asset
from generation.models import Generation
from tests.helpers import generate

pytestmark = pytest.mark.django_db


def test_openapi_schema_validates(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in ("/api/generate", "/api/gallery", "/api/credits", "/api/models", "/health"):
        assert f"{path}:" in text


def test_swagger_ui_is_served_without_a_cdn(anon):
    response = anon.get("/api/docs/")
    assert response.status_code == 200
    assert b"cdn.jsdelivr" not in response.content


@pytest.mark.parametrize("model", [AIModel, Generation, Asset, CreditAccount, LedgerEntry])
def test_admin_changelists_open_for_staff(staff, alice, model):
    generate(alice, width=128, height=128)
    browser = Client()
    browser.force_login(staff.user)
    url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
    assert browser.get(url).status_code == 200
    assert browser.get(url, {"q": "alice"}).status_code == 200


def test_admin_user_list_shows_the_balance(staff, alice):
    browser = Client()
    browser.force_login(staff.user)
    page = browser.get("/admin/accounts/user/").content.decode()
    assert "alice@example.com" in page
    assert "Credits" in page
    assert browser.get("/admin/accounts/apikey/").status_code == 200


def test_admin_is_closed_to_normal_users(alice):
    browser = Client()
    browser.force_login(alice.user)
    assert browser.get("/admin/generation/generation/").status_code == 302
