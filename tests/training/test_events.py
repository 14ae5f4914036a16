"""The training's live feed: server-sent events in order, resumable with Last-Event-ID."""

import pytest

from tests.helpers import assert_envelope, sse_frames
from tests.training.factories import image_files, start, upload

pytestmark = pytest.mark.django_db


def _events(client, job_id, **headers) -> list[dict]:
    response = client.get(f"/api/training/{job_id}/events", HTTP_ACCEPT="text/event-stream", **headers)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    return sse_frames(b"".join(response.streaming_content).decode())


def test_events_come_in_order_and_end_with_the_terminal_status(alice):
    job_id = start(alice, upload(alice, image_files(3)), steps=40).json()["training_id"]
    frames = _events(alice, job_id)
    statuses = [f["data"]["status"] for f in frames if f["event"] == "status"]
    assert statuses == ["queued", "preprocessing", "training", "uploading", "completed"]
    assert frames[-1]["event"] == "status"
    steps = [f["data"]["current_step"] for f in frames if f["event"] == "progress"]
    assert steps == sorted(steps) and steps[-1] == 40
    losses = [f["data"]["loss"] for f in frames if f["event"] == "progress"]
    assert losses[-1] < losses[0]
    assert {f["data"]["seed"] for f in frames if f["event"] == "sample"} == {1, 2}
    assert any(f["event"] == "log" and f["data"]["message"].startswith("Step 40/40") for f in frames)
    ids = [f["id"] for f in frames]
    assert ids == sorted(ids)
    resumed = _events(alice, job_id, HTTP_LAST_EVENT_ID=str(ids[-3]))
    assert [f["id"] for f in resumed] == ids[-2:]


def test_a_bad_last_event_id_is_a_400(alice):
    job_id = start(alice, upload(alice, image_files(3)), steps=20).json()["training_id"]
    assert_envelope(alice.get(f"/api/training/{job_id}/events", HTTP_LAST_EVENT_ID="x"), 400)
    # "²" passes str.isdigit() but is no number.
    assert_envelope(alice.get(f"/api/training/{job_id}/events", HTTP_LAST_EVENT_ID="1²"), 400)
