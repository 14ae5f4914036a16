"""The Training page lists the user's jobs and LoRAs and is one click from every page."""

import pytest

from tests.helpers import signed_in
from tests.training.factories import image_files, start, upload

pytestmark = pytest.mark.django_db


def test_the_training_page_shows_jobs_progress_samples_and_loras(alice, bob):
    job_id = start(alice, upload(alice, image_files(3)), steps=20).json()["training_id"]
    page = signed_in(alice.user).get("/training")
    assert page.status_code == 200
    html = page.content.decode()
    assert "filmlook" in html
    assert f"/api/training/{job_id}/files/sample-0.png" in html
    assert f"/api/training/{job_id}/files/model.safetensors" in html
    assert "style adapter" in html
    assert 'id="loss-history"' in html
    other = signed_in(bob.user).get("/training").content.decode()
    assert job_id not in other and "No trainings yet" in other


def test_the_header_links_to_the_training_page(alice):
    html = signed_in(alice.user).get("/training").content.decode()
    assert 'href="/training" aria-current="page">Training</a>' in html


def test_signed_out_visitors_are_sent_to_sign_in(anon):
    response = anon.get("/training")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
