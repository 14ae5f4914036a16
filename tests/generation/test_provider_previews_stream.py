"""Each hosted preview source through the public live stream: a real worker (on the in-process
broker) runs the provider against its fake server, the project's ASGI application serves the
streams, and each watcher reads its own generation's stream over HTTP.

Each test runs two jobs of different sizes (or seeds) one after the other: a watcher sees
decodable pictures of its own job only, in order, before its terminal event."""

import base64
import io

import httpx
import pytest
from PIL import Image

from catalog.models import AIModel
from tests.generation.conftest import fal_configured, replicate_configured
from tests.generation.test_pushed_events import Watcher

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def server():
    from config.asgi import application
    from tests.helpers import asgi_server_running

    with asgi_server_running(application) as url:
        yield url


@pytest.fixture
def unpaced(settings):
    """Every frame is published: the pacing of previews is tested with the local source."""
    settings.ATELIER_PREVIEW_MIN_INTERVAL_MS = 0
    return settings


def _auth(client) -> dict:
    return {"Authorization": f"Bearer {client.secret}"}


def _submit(server, client, **payload) -> str:
    body = {"prompt": "a lighthouse on a cliff at sunset", **payload}
    response = httpx.post(f"{server}/api/generate", json=body, headers=_auth(client), timeout=30)
    assert response.status_code == 201, response.text
    return response.json()["generation"]["id"]


def _watch(server, client, generation_id) -> Watcher:
    watcher = Watcher(f"{server}/api/generate/{generation_id}/events", client.secret)
    watcher.start()
    assert watcher.connected.wait(10)
    return watcher


def _previews(watcher: Watcher) -> list[tuple[dict, Image.Image]]:
    """The previews of a finished stream, each with its decoded picture, checked to come in
    order before the stream's terminal event, which says the job completed."""
    assert watcher.ended.wait(90), "the stream did not end"
    assert watcher.status_code == 200
    frames = watcher.drain()
    events = [frame["event"] for frame in frames]
    assert frames[-1]["event"] == "status" and frames[-1]["data"]["status"] == "completed", frames[-1]
    previews = [frame["data"] for frame in frames if frame["event"] == "preview"]
    assert previews, events
    assert max(i for i, event in enumerate(events) if event == "preview") < len(events) - 1
    indexes = [preview["index"] for preview in previews]
    assert indexes == sorted(set(indexes))
    steps = [preview["step"] for preview in previews if preview["step"] is not None]
    assert steps == sorted(set(steps))
    pictures = []
    for preview in previews:
        head, _, encoded = preview["image"].partition(",")
        assert head == "data:image/webp;base64"
        picture = Image.open(io.BytesIO(base64.b64decode(encoded)))
        picture.load()
        assert picture.size == (preview["width"], preview["height"])
        pictures.append(picture)
    return list(zip(previews, pictures, strict=True))


def test_comfyui_previews_reach_the_watcher_of_their_prompt(server, memory_broker, alice, bob, unpaced):
    from tests.fakes.comfyui import FakeComfyUI

    comfy = FakeComfyUI(step_delay=0.06).start()
    unpaced.COMFYUI_URL = comfy.url
    unpaced.ATELIER_COMFYUI_LISTEN_SECONDS = 20.0
    try:
        model = {"model": "comfyui/checkpoint", "width": 512, "height": 512, "steps": 4}
        first = _submit(server, alice, seed=10, **model)
        second = _submit(server, bob, seed=200, **model)
        watchers = {first: _watch(server, alice, first), second: _watch(server, bob, second)}
        memory_broker.start_worker(queues=["generation.comfyui"])

        for generation_id, seed in ((first, 10), (second, 200)):
            previews = _previews(watchers[generation_id])
            assert {preview["total_steps"] for preview, _picture in previews} == {4}
            for preview, picture in previews:
                assert (preview["width"], preview["height"]) == (64, 64)
                # Tinted by the job's own seed: the frames of the other prompt never show here.
                assert abs(picture.convert("RGB").getpixel((32, 32))[1] - seed) < 24
    finally:
        comfy.stop()
    # ComfyUI named the prompt of every frame (the client announced preview metadata).
    assert {kind for _client, kind, _prompt, _step in comfy.previews_sent} == {4}


def test_gpt_image_partial_images_reach_the_watcher_of_their_job(server, memory_broker, alice, bob, unpaced):
    from tests.fakes.openai_images import FakeOpenAIImages

    fake = FakeOpenAIImages().start()
    fake.stream_delay = 0.1
    unpaced.OPENAI_API_KEY = "sk-test-secret-key"
    unpaced.OPENAI_BASE_URL = fake.base_url
    try:
        first = _submit(server, alice, model="openai/gpt-image-1", width=1024, height=1024)
        second = _submit(server, bob, model="openai/gpt-image-1", width=1536, height=1024, partial_images=3)
        watchers = {first: _watch(server, alice, first), second: _watch(server, bob, second)}
        memory_broker.start_worker(queues=["generation.openai"])

        alices, bobs = _previews(watchers[first]), _previews(watchers[second])
    finally:
        fake.stop()
    assert [(p["step"], p["total_steps"]) for p, _picture in alices] == [(1, 2), (2, 2)]
    assert {(p["width"], p["height"]) for p, _picture in alices} == {(256, 256)}
    assert [(p["step"], p["total_steps"]) for p, _picture in bobs] == [(1, 3), (2, 3), (3, 3)]
    assert {(p["width"], p["height"]) for p, _picture in bobs} == {(256, 171)}
    assert [request.body["partial_images"] for request in fake.generations] == [2, 3]


def test_fal_stream_frames_reach_the_watcher_of_their_job(server, memory_broker, alice, bob, unpaced):
    fal = fal_configured(unpaced)
    fal.run_seconds = 0.4
    model = AIModel.objects.get(pk="fal-ai/flux/dev")
    model.defaults = {**model.defaults, "stream": True}
    model.save()

    first = _submit(server, alice, model="fal-ai/flux/dev", width=512, height=384)
    second = _submit(server, bob, model="fal-ai/flux/dev", width=384, height=512)
    watchers = {first: _watch(server, alice, first), second: _watch(server, bob, second)}
    memory_broker.start_worker(queues=["generation.fal"])

    for generation_id, size in ((first, (64, 48)), (second, (48, 64))):
        previews = _previews(watchers[generation_id])
        assert {(p["width"], p["height"]) for p, _picture in previews} == {size}
        assert {p["total_steps"] for p, _picture in previews} == {4}
    assert [call.path for call in fal.submits()] == ["/fal-ai/flux/dev/stream"] * 2


def test_replicate_stream_frames_reach_the_watcher_of_their_job(server, memory_broker, alice, bob, unpaced):
    replicate = replicate_configured(unpaced)
    replicate.run_seconds = 0.4
    model_id = "replicate/black-forest-labs/flux-schnell"
    model = AIModel.objects.get(pk=model_id)
    model.defaults = {**model.defaults, "stream": True}
    model.save()
    try:
        first = _submit(server, alice, model=model_id, width=1024, height=1024, seed=10)
        second = _submit(server, bob, model=model_id, width=1024, height=576, seed=200)
        watchers = {first: _watch(server, alice, first), second: _watch(server, bob, second)}
        memory_broker.start_worker(queues=["generation.replicate"])

        for generation_id, (size, seed) in ((first, ((128, 128), 10)), (second, ((128, 72), 200))):
            previews = _previews(watchers[generation_id])
            frames = [(p, picture) for p, picture in previews if (p["width"], p["height"]) == size]
            # The model's frames, tinted by the job's seed, then (scaled) its final image.
            assert len(frames) >= 2
            for _preview, picture in frames:
                assert abs(picture.convert("RGB").getpixel((4, 4))[1] - seed) < 24
    finally:
        replicate.stop()
    assert all(create.body["stream"] is True for create in replicate.creates())
