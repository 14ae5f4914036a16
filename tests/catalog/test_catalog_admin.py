import pytest
from django.test import Client

from catalog.models import Setting, Style

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(staff):
    client = Client()
    client.force_login(staff.user)
    return client


@pytest.mark.parametrize("model", ["style", "format", "promptexample", "setting"])
def test_catalog_is_editable_in_the_admin(admin_client, model):
    assert admin_client.get(f"/admin/catalog/{model}/").status_code == 200
    assert admin_client.get(f"/admin/catalog/{model}/add/").status_code == 200


def test_admin_refuses_a_template_without_the_prompt_slot(admin_client):
    form = {"name": "noir", "description": "", "prompt_template": "film noir", "negative_prompt_template": ""}
    response = admin_client.post("/admin/catalog/style/add/", {**form, "sort_order": 5})
    assert response.status_code == 200
    assert "must contain {prompt}" in response.content.decode()
    assert not Style.objects.filter(name="noir").exists()

    response = admin_client.post(
        "/admin/catalog/style/add/", {**form, "prompt_template": "{prompt}, noir", "sort_order": 5}
    )
    assert response.status_code == 302
    assert Style.objects.get(name="noir").apply("a cat") == "a cat, noir"


def test_admin_refuses_a_setting_value_of_the_wrong_type(admin_client):
    setting = Setting.objects.get(name="default_steps")
    form = {"name": "default_steps", "value": "lots", "value_type": "integer", "description": ""}
    response = admin_client.post(f"/admin/catalog/setting/{setting.pk}/change/", form)
    assert response.status_code == 200
    setting.refresh_from_db()
    assert setting.value == "28"
