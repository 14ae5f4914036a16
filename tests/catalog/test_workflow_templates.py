"""ComfyUI workflow templates in the catalog: the seeded default and the admin's checks."""

import json

import pytest
from django.test import Client

from catalog.models import AIModel, WorkflowTemplate

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(staff):
    client = Client()
    client.force_login(staff.user)
    return client


def _form(**overrides) -> dict:
    default = WorkflowTemplate.objects.get(name="text-to-image")
    form = {
        "name": "portrait",
        "description": "",
        "graph": json.dumps(default.graph),
        "slots": json.dumps(default.slots),
        "is_active": "on",
    }
    return {**form, **overrides}


def test_the_default_text_to_image_template_is_seeded_and_named_by_the_comfyui_model():
    template = WorkflowTemplate.objects.get(name="text-to-image")
    assert template.slots["prompt"] == ["6", "text"]
    assert template.graph["5"]["class_type"] == "EmptyLatentImage"
    assert AIModel.objects.get(pk="comfyui/checkpoint").defaults["workflow"] == "text-to-image"


def test_templates_are_editable_in_the_admin(admin_client):
    assert admin_client.get("/admin/catalog/workflowtemplate/").status_code == 200
    response = admin_client.post("/admin/catalog/workflowtemplate/add/", _form())
    assert response.status_code == 302, response.content.decode()
    assert WorkflowTemplate.objects.get(name="portrait").slots["width"] == ["5", "width"]


@pytest.mark.parametrize(
    ("slots", "message"),
    [
        ({"prompt": ["99", "text"]}, "names node 99, which is not in the graph"),
        ({"prompt": ["6", "txt"]}, "node 6 has no input &#x27;txt&#x27;"),
        ({"width": ["5", "width"]}, "The &#x27;prompt&#x27; slot is required"),
        ({"prompt": ["6", "text"], "sampler": ["3", "sampler_name"]}, "Unknown slot &#x27;sampler&#x27;"),
    ],
)
def test_admin_refuses_slots_that_do_not_fit_the_graph(admin_client, slots, message):
    response = admin_client.post("/admin/catalog/workflowtemplate/add/", _form(slots=json.dumps(slots)))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not WorkflowTemplate.objects.filter(name="portrait").exists()


def test_admin_refuses_a_graph_that_is_not_in_api_format(admin_client):
    ui_format = {"nodes": [{"id": 3, "type": "KSampler"}], "links": []}

    response = admin_client.post("/admin/catalog/workflowtemplate/add/", _form(graph=json.dumps(ui_format)))

    assert response.status_code == 200
    assert "export the workflow in API format" in response.content.decode()
