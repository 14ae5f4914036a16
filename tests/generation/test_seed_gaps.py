"""What ``POST /api/generate`` answers for seeds 001 and 003 beside the canonical generation:
seed 003's ``generation.message`` and seed 001's results with their thumbnails."""

import pytest

from core.errors import ProviderError
from generation.models import Generation, Status
from generation.providers.local import LocalProvider
from tests.helpers import assert_envelope, fetch_image, generate

QUEUED = "Generation queued successfully. Use the status endpoint to check progress."
STILL_RUNNING = "Generation still running. Use the status endpoint to check progress."


@pytest.mark.django_db
def test_a_queued_generation_says_how_to_follow_it(alice, bob):
    response = generate(alice, width=64, height=64)
    assert response.status_code == 201, response.content
    generation = response.json()["generation"]
    assert (generation["status"], generation["message"]) == (Status.IN_QUEUE, QUEUED)
    # The request's work has run since: the status endpoint says how it ended.
    followed = alice.get(f"/api/generate/{generation['id']}").json()["generation"]
    assert (followed["status"], followed["message"]) == (Status.COMPLETED, "Generation completed")
    assert_envelope(bob.get(f"/api/generate/{generation['id']}"), 404, "not_found")


@pytest.mark.django_db
def test_the_status_endpoint_says_where_a_generation_is(alice, held_tasks):
    generation_id = generate(alice, width=64, height=64).json()["generation"]["id"]
    for status, message in (
        (Status.IN_QUEUE, "Generation queued"),
        (Status.PROCESSING, "Generation in progress"),
        (Status.CANCELLED, "Generation cancelled"),
    ):
        Generation.objects.filter(pk=generation_id).update(status=status)
        followed = alice.get(f"/api/generate/{generation_id}").json()["generation"]
        assert (followed["status"], followed["message"]) == (status, message)
    assert alice.get("/api/generate").json()["generations"][0]["message"] == "Generation cancelled"


@pytest.mark.django_db
def test_a_wait_that_ends_first_says_the_generation_is_still_running(alice, held_tasks, settings):
    settings.ATELIER_SYNC_TIMEOUT_SECONDS = 0
    response = generate(alice, width=64, height=64, sync_mode=True)
    assert response.status_code == 202, response.content
    generation = response.json()["generation"]
    assert (generation["status"], generation["message"]) == (Status.IN_QUEUE, STILL_RUNNING)
    assert "results" not in response.json()


@pytest.mark.django_db(transaction=True)
def test_a_finished_generation_says_it_completed(alice):
    response = generate(alice, width=64, height=64, sync_mode=True)
    assert response.status_code == 200, response.content
    generation = response.json()["generation"]
    assert (generation["status"], generation["message"]) == (Status.COMPLETED, "Generation completed")


@pytest.mark.django_db(transaction=True)
def test_a_failed_generation_says_it_failed(alice, monkeypatch):
    def refuse(self, job, *, reporter):
        raise ProviderError("The provider refused the prompt")

    monkeypatch.setattr(LocalProvider, "submit", refuse)
    response = generate(alice, width=64, height=64, sync_mode=True)
    assert response.status_code == 200, response.content
    generation = response.json()["generation"]
    assert (generation["status"], generation["message"]) == (Status.FAILED, "Generation failed")
    assert "results" not in response.json()


def _thumbnail_tasks_not_run_yet(monkeypatch) -> None:
    """As on a busy deployment: the generation is done, its thumbnail tasks still wait."""
    monkeypatch.setattr("gallery.services._enqueue_thumbnail", lambda *, asset_id: None)


@pytest.mark.django_db(transaction=True)
def test_seed_001_results_have_their_thumbnails_when_the_answer_comes(alice, bob, monkeypatch):
    _thumbnail_tasks_not_run_yet(monkeypatch)
    response = alice.post(
        "/api/generate", {"prompt": "A beautiful sunset over mountains", "model": "local"}, format="multipart"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    [result] = body["results"]
    assert result["type"] == "image"
    assert result["thumbnail_url"].endswith(f"/api/gallery/{result['id']}/thumbnail")
    thumbnail = fetch_image(alice, result["thumbnail_url"])
    assert thumbnail.format == "WEBP"
    assert max(thumbnail.size) < 1024
    assert body["generation"]["images"][0]["thumbnail_url"] == result["thumbnail_url"]
    assert_envelope(bob.get(result["thumbnail_url"]), 404, "not_found")


@pytest.mark.django_db(transaction=True)
def test_every_result_of_a_sync_json_answer_has_a_thumbnail(alice, monkeypatch):
    _thumbnail_tasks_not_run_yet(monkeypatch)
    response = generate(alice, width=64, height=64, num_images=2, sync_mode=True)
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert len(results) == 2
    for result in results:
        assert fetch_image(alice, result["thumbnail_url"]).format == "WEBP"


@pytest.mark.django_db(transaction=True)
def test_a_thumbnail_that_cannot_be_made_leaves_the_answer_whole(alice, monkeypatch):
    _thumbnail_tasks_not_run_yet(monkeypatch)

    def broken(*, asset):
        raise OSError("storage unavailable")

    monkeypatch.setattr("generation.api.asset_thumbnail_build", broken)
    response = generate(alice, width=64, height=64, sync_mode=True)
    assert response.status_code == 200, response.content
    [result] = response.json()["results"]
    assert result["thumbnail_url"] is None
    assert fetch_image(alice, result["url"]).size == (64, 64)


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_results_through_a_worker_have_thumbnails_before_the_thumbnail_queue_is_served(alice, start_worker):
    # The test worker serves the generation queues only: the thumbnail tasks stay at the broker.
    start_worker()
    response = alice.post("/api/generate", {"prompt": "a red kite", "model": "local"}, format="multipart")
    assert response.status_code == 200, response.content
    [result] = response.json()["results"]
    assert fetch_image(alice, result["thumbnail_url"]).format == "WEBP"
