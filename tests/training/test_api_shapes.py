"""The training API answers what the page shows, and its published request schemas hold the limits
the server enforces, so a client that follows the schema is neither refused nor surprised."""

import json

import pytest

from tests.helpers import assert_envelope
from tests.training.factories import image_files, start, upload
from training.models import LoRA, TrainingDataset, TrainingJob
from training.presenters import dataset_as_dict, lora_as_dict, training_as_dict
from training.providers import training_providers
from training.serializers import LoraSerializer, TrainingBriefSerializer, TrainingDatasetSerializer, TrainingSerializer

pytestmark = pytest.mark.django_db


@pytest.fixture
def openapi(anon) -> dict:
    response = anon.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def _request_schema(openapi: dict, path: str, method: str) -> dict:
    body = openapi["paths"][path][method]["requestBody"]["content"]
    schema = next(iter(body.values()))["schema"]
    return openapi["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]


def _as_json(value) -> dict:
    return json.loads(json.dumps(value, default=str))


def test_the_api_shows_every_key_the_page_shows(alice, held_tasks):
    dataset = upload(alice, image_files(3))
    queued = start(alice, dataset).json()["training_id"]
    from training.tasks import run_training

    finished = start(alice, dataset, steps=20).json()["training_id"]
    run_training(finished)
    for job in TrainingJob.objects.filter(pk__in=[queued, finished]):
        for serializer, brief in ((TrainingSerializer, False), (TrainingBriefSerializer, True)):
            shown = training_as_dict(job, brief=brief)
            served = serializer(job).data
            assert set(served) == set(shown), (job.status, brief)
            assert served["status"] == job.status and served["training_id"] == str(job.pk)
    completed = training_as_dict(TrainingJob.objects.get(pk=finished))
    assert completed["training_time"] and completed["final_loss"] is not None
    stored = TrainingDataset.objects.get(pk=dataset["dataset_id"])
    assert _as_json(TrainingDatasetSerializer(stored).data) == _as_json(dataset_as_dict(stored))
    lora = LoRA.objects.get(job_id=finished)
    assert set(LoraSerializer(lora).data) == set(lora_as_dict(lora))


def test_the_start_schema_states_the_limits_the_server_enforces(openapi, alice):
    schema = _request_schema(openapi, "/api/training/start", "post")
    fields = schema["properties"]
    assert schema["required"] == ["trigger_word"]
    assert (fields["steps"]["minimum"], fields["steps"]["maximum"]) == (1, 10000)
    assert (fields["rank"]["minimum"], fields["rank"]["maximum"]) == (1, 128)
    assert (fields["learning_rate"]["minimum"], fields["learning_rate"]["maximum"]) == (1e-6, 1.0)
    assert (fields["trigger_word"]["minLength"], fields["trigger_word"]["maxLength"]) == (1, 50)
    assert fields["base_model"]["maxLength"] == 200
    provider = openapi["components"]["schemas"][fields["provider"]["oneOf"][0]["$ref"].rsplit("/", 1)[-1]]
    assert provider["enum"] == [adapter.name for adapter in training_providers()]
    dataset = upload(alice, image_files(3))
    for body, field in (
        ({"steps": 10001}, "steps"),
        ({"steps": 0}, "steps"),
        ({"rank": 129}, "rank"),
        ({"learning_rate": 0}, "learning_rate"),
        ({"learning_rate": 1.5}, "learning_rate"),
        ({"trigger_word": "x" * 51}, "trigger_word"),
        ({"trigger_word": ""}, "trigger_word"),
        ({"provider": "nowhere"}, "provider"),
        ({"base_model": "m" * 201}, "base_model"),
    ):
        refused = start(alice, dataset, dry_run=True, **body)
        assert field in assert_envelope(refused, 400, "validation_error")["details"], body
    unknown = start(alice, dataset, dry_run=True, provider="nowhere")
    assert unknown.json()["details"]["provider"] == [
        "Unknown training provider 'nowhere'. Use one of: local, fal, replicate."
    ]
    for body in ({"provider": ""}, {"steps": 5000, "rank": 128, "learning_rate": 1.0, "trigger_word": "x" * 50}):
        assert start(alice, dataset, dry_run=True, **body).status_code == 200, body


def test_a_start_names_its_dataset_by_the_url_the_upload_answered_also_in_full(alice):
    dataset = upload(alice, image_files(3))
    url = f"http://testserver{dataset['images_data_url']}/"
    quote = alice.post(
        "/api/training/start", {"images_data_url": url, "trigger_word": "filmlook", "dry_run": True}, format="json"
    )
    assert quote.status_code == 200, quote.content
    assert quote.json()["dataset_id"] == dataset["dataset_id"]


def test_a_rename_needs_a_name_as_its_schema_says(openapi, alice):
    schema = _request_schema(openapi, "/api/loras/{id}", "patch")
    assert schema["required"] == ["name"]
    assert (schema["properties"]["name"]["minLength"], schema["properties"]["name"]["maxLength"]) == (1, 100)
    job_id = start(alice, upload(alice, image_files(3)), steps=20).json()["training_id"]
    lora_id = alice.get(f"/api/training/status/{job_id}").json()["lora_id"]
    for body in ({}, {"name": "   "}, {"name": "n" * 101}):
        assert_envelope(alice.patch(f"/api/loras/{lora_id}", body, format="json"), 400, "validation_error")
    renamed = alice.patch(f"/api/loras/{lora_id}", {"name": " Warm film "}, format="json")
    assert renamed.json()["lora"]["name"] == "Warm film"


def test_the_list_filter_is_documented_with_the_statuses_it_takes(openapi, alice):
    parameters = {p["name"]: p["schema"] for p in openapi["paths"]["/api/training"]["get"]["parameters"]}
    assert set(parameters["status"]["enum"]) == {*TrainingJob.Status.values, ""}
    assert (parameters["limit"]["minimum"], parameters["limit"]["maximum"]) == (1, 100)
    assert alice.get("/api/training", {"status": ""}).status_code == 200
    assert_envelope(alice.get("/api/training", {"status": "nope"}), 400, "validation_error")
    assert_envelope(alice.get("/api/training", {"limit": 101}), 400, "validation_error")
