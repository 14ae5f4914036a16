"""An operator's Retry makes the failed generation again with every setting a remix would take:
its stored input image and mask, and its art style applied once."""

import pytest
from django.test import Client
from django.urls import reverse

from generation.models import Generation
from generation.services import generation_fail
from tests.inputs.conftest import picture, png, upload

pytestmark = pytest.mark.django_db


def _failed(client, **fields) -> Generation:
    response = client.post("/api/generate", {"sync_mode": "false", **fields}, format="multipart")
    assert response.status_code == 201, response.content
    generation = Generation.objects.get(pk=response.json()["generation"]["id"])
    Generation.objects.filter(pk=generation.pk).update(status="processing")
    generation_fail(generation_id=generation.pk, message="provider down")
    return generation


def _retried(staff, generation: Generation) -> Generation:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff.user)
    url = reverse("admin:generation_generation_operate", args=[generation.pk, "retry"])
    token = browser.get(url).context["csrf_token"]
    response = browser.post(url, {"csrfmiddlewaretoken": str(token)}, follow=True)
    messages = " ".join(str(message) for message in response.context["messages"])
    assert f"a retry of {generation.pk}" in messages, messages
    return Generation.objects.exclude(pk=generation.pk).get(user=generation.user)


def test_a_retried_image_to_image_generation_sends_the_same_input_and_style_once(staff, alice):
    failed = _failed(
        alice,
        model="local/image-to-image",
        prompt="a harbour at dawn",
        negative_prompt="boats",
        art_style="classic",
        image=upload(png(picture(120, 90))),
        seed=5,
        strength=0.4,
    )

    again = _retried(staff, failed)

    assert (again.final_prompt, again.negative_prompt, again.seed) == (
        failed.final_prompt,
        failed.negative_prompt,
        5,
    )
    assert again.negative_prompt.count("photograph") == 1
    assert (again.params["strength"], again.params["art_style"]) == (0.4, "classic")
    inputs = {row.role: row.sha256 for row in again.inputs.all()}
    assert inputs == {row.role: row.sha256 for row in failed.inputs.all()} and "image" in inputs
