"""In-progress pictures on a generation's live stream, from the local provider's canvas to its
watchers: a real worker (on the in-process broker) paints, the project's ASGI application
(uvicorn, in a thread) serves the streams, and each watcher reads its stream over HTTP."""

import base64
import io

import httpx
import pytest
from django.urls import reverse
from PIL import Image

from generation.event_stream import generation_event_stream
from generation.models import Generation, Status
from generation.previews_cache import preview_path
from generation.selectors import generation_latest_preview
from generation.services.running import generation_reporter
from generation.signals import generation_preview
from generation.state import transition
from tests.generation.test_pushed_events import Watcher
from tests.helpers import LOCAL_MODEL, asgi_server_running, generate_done, sse_frames, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

JOB_QUEUES = ["generation.local"]


@pytest.fixture
def server():
    from config.asgi import application

    with asgi_server_running(application) as url:
        yield url


@pytest.fixture
def painting(settings):
    """Every painted layer is published (no pacing), and painting waits a little between layers
    so that each is seen on its own."""
    settings.ATELIER_PREVIEW_MIN_INTERVAL_MS = 0
    settings.ATELIER_LOCAL_PAINT_DELAY_MS = 60
    return settings


def _auth(client) -> dict:
    return {"Authorization": f"Bearer {client.secret}"}


def _submit(server, client, **payload) -> str:
    body = {"model": LOCAL_MODEL, "prompt": "a lighthouse on a cliff at sunset", "width": 512, "height": 384}
    response = httpx.post(f"{server}/api/generate", json={**body, **payload}, headers=_auth(client), timeout=30)
    assert response.status_code == 201, response.text
    return response.json()["generation"]["id"]


def _watch(server, client, generation_id) -> Watcher:
    watcher = Watcher(f"{server}/api/generate/{generation_id}/events", client.secret)
    watcher.start()
    assert watcher.connected.wait(10)
    return watcher


def _frames(watcher: Watcher) -> list[dict]:
    assert watcher.ended.wait(60), "the stream did not end"
    assert watcher.status_code == 200
    return watcher.drain()


def _decoded(preview: dict) -> Image.Image:
    head, _, encoded = preview["image"].partition(",")
    assert head == "data:image/webp;base64"
    image = Image.open(io.BytesIO(base64.b64decode(encoded)))
    image.load()
    assert image.format == "WEBP"
    return image


def test_the_owner_watches_the_picture_paint_before_the_result_and_nobody_else_sees_it(
    server, memory_broker, alice, bob, painting
):
    painted = _submit(server, alice, seed=7)
    plain = _submit(server, bob, seed=7, previews=False)
    # Bob's other job paints another scene, with previews, in the same worker.
    elsewhere = _submit(server, bob, seed=99, prompt="a green forest under a night sky")
    watchers = {
        painted: _watch(server, alice, painted),
        plain: _watch(server, bob, plain),
        elsewhere: _watch(server, bob, elsewhere),
    }
    # Bob cannot follow Alice's job.
    refused = httpx.get(f"{server}/api/generate/{painted}/events", headers=_auth(bob), timeout=10)
    assert refused.status_code == 404 and refused.json()["type"] == "not_found"

    memory_broker.start_worker(queues=JOB_QUEUES)
    frames = _frames(watchers[painted])

    events = [frame["event"] for frame in frames]
    previews = [frame["data"] for frame in frames if frame["event"] == "preview"]
    # Each layer of the canvas, in the order it was painted, before the job's end.
    assert [p["index"] for p in previews] == [0, 1, 2, 3]
    assert [p["step"] for p in previews] == [1, 2, 3, 4]
    assert {p["total_steps"] for p in previews} == {5}
    assert events.index("preview") > events.index("status")  # after it started
    assert max(i for i, e in enumerate(events) if e == "preview") < len(events) - 1
    assert frames[-1]["data"]["status"] == "completed"
    assert all("id" not in frame for frame in frames if frame["event"] == "preview")  # not stored events
    images = [_decoded(p) for p in previews]
    for preview, image in zip(previews, images, strict=True):
        assert image.size == (preview["width"], preview["height"]) == (256, 192)
    # Real layers, not one picture scaled: the sky alone differs from the sky with its sun.
    assert len({image.tobytes() for image in images}) == 4

    # Bob asked for none: his stream has none, and ends as usual.
    bobs = _frames(watchers[plain])
    assert "preview" not in [frame["event"] for frame in bobs]
    assert bobs[-1]["data"]["status"] == "completed"
    # Each job's stream carries its own pictures only: Bob's other job, its four layers, none of Alice's.
    others = [frame["data"] for frame in _frames(watchers[elsewhere]) if frame["event"] == "preview"]
    assert [p["index"] for p in others] == [0, 1, 2, 3]
    assert not {_decoded(p).tobytes() for p in others} & {image.tobytes() for image in images}

    # The result is the picture every watcher of the same settings gets, previews or not.
    result = httpx.get(f"{server}/api/generate/{painted}", headers=_auth(alice), timeout=10).json()["generation"]
    other = httpx.get(f"{server}/api/generate/{plain}", headers=_auth(bob), timeout=10).json()["generation"]
    assert result["previews"] is True and other["previews"] is False
    assert result["preview_url"] is None  # finished
    assert _pixels(server, alice, result) == _pixels(server, bob, other)


def _pixels(server, client, generation: dict) -> bytes:
    url = generation["images"][0]["url"]
    response = httpx.get(url if url.startswith("http") else f"{server}{url}", headers=_auth(client), timeout=10)
    assert response.status_code == 200
    return Image.open(io.BytesIO(response.content)).convert("RGB").tobytes()


def test_previews_come_at_most_once_per_interval(server, memory_broker, alice, settings):
    settings.ATELIER_LOCAL_PAINT_DELAY_MS = 30
    settings.ATELIER_PREVIEW_MIN_INTERVAL_MS = 60_000
    generation_id = _submit(server, alice)
    watcher = _watch(server, alice, generation_id)
    memory_broker.start_worker(queues=JOB_QUEUES)

    frames = _frames(watcher)
    previews = [frame["data"] for frame in frames if frame["event"] == "preview"]
    # Four layers were painted within the interval: the first was sent, the others dropped.
    assert [(p["index"], p["step"]) for p in previews] == [(0, 1)]
    assert frames[-1]["data"]["status"] == "completed"


def test_a_frame_after_the_interval_is_sent(server, memory_broker, alice, settings):
    settings.ATELIER_LOCAL_PAINT_DELAY_MS = 150
    settings.ATELIER_PREVIEW_MIN_INTERVAL_MS = 100
    generation_id = _submit(server, alice)
    watcher = _watch(server, alice, generation_id)
    memory_broker.start_worker(queues=JOB_QUEUES)

    previews = [frame["data"] for frame in _frames(watcher) if frame["event"] == "preview"]
    assert [p["step"] for p in previews] == [1, 2, 3, 4]


def test_a_polling_client_reads_the_latest_preview_while_the_job_runs(server, memory_broker, alice, bob, settings):
    settings.ATELIER_PREVIEW_MIN_INTERVAL_MS = 0
    settings.ATELIER_LOCAL_PAINT_DELAY_MS = 500
    generation_id = _submit(server, alice)
    detail = f"{server}/api/generate/{generation_id}"
    assert httpx.get(detail, headers=_auth(alice), timeout=10).json()["generation"]["preview_url"] is None
    memory_broker.start_worker(queues=JOB_QUEUES)

    running = wait_until(
        lambda: (g := httpx.get(detail, headers=_auth(alice), timeout=10).json()["generation"])["preview_url"] and g,
        timeout=30,
    )
    assert running["status"] == "processing"
    url = running["preview_url"]
    assert url.startswith(f"{server}/api/generate/{generation_id}/preview?index=")
    picture = httpx.get(url, headers=_auth(alice), timeout=10)
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/webp"
    assert picture.headers["cache-control"] == "private, no-store"
    image = Image.open(io.BytesIO(picture.content))
    assert image.format == "WEBP" and max(image.size) <= 256

    # Not Bob's: the same 404 as for a job that does not exist.
    for path in (url, detail):
        refused = httpx.get(path, headers=_auth(bob), timeout=10)
        assert refused.status_code == 404 and refused.json()["type"] == "not_found"

    finished = wait_until(
        lambda: (
            (g := httpx.get(detail, headers=_auth(alice), timeout=10).json()["generation"])["status"] == "completed"
            and g
        ),
        timeout=30,
    )
    assert finished["preview_url"] is None
    # The shared cache let it go with the job's end.
    assert generation_latest_preview(generation_id) is None
    gone = httpx.get(url, headers=_auth(alice), timeout=10)
    assert gone.status_code == 404 and gone.json()["success"] is False


def test_previews_false_is_kept_from_a_form_post_too(alice):
    response = alice.post(
        "/api/generate", {"model": LOCAL_MODEL, "prompt": "a red fox", "previews": "false"}, format="multipart"
    )
    assert response.status_code in (200, 201), response.content
    generation = response.json()["generation"]
    assert generation["previews"] is False
    left_out = alice.post("/api/generate", {"model": LOCAL_MODEL, "prompt": "a red fox"}, format="multipart")
    assert left_out.json()["generation"]["previews"] is True


def test_a_slow_watcher_gets_the_newest_preview_not_every_one(alice, settings):
    """A stream that is not read while pictures arrive holds one, the newest; it never sends a
    preview after the job's end."""
    settings.ATELIER_PREVIEW_MIN_INTERVAL_MS = 0
    generation = Generation.objects.create(
        user=alice.user, model_id=LOCAL_MODEL, provider="local", status=Status.PENDING, width=64, height=64
    )
    transition(generation_id=generation.pk, to=Status.IN_QUEUE)
    transition(generation_id=generation.pk, to=Status.PROCESSING)
    stream = generation_event_stream(generation_id=generation.pk)
    opened = [next(stream) for _ in range(3)]  # retry, in_queue, processing
    assert [f["data"] for f in sse_frames("".join(opened))] == [{"status": "in_queue"}, {"status": "processing"}]

    reporter = generation_reporter(generation.pk)
    for step in range(1, 6):
        reporter.preview(Image.new("RGB", (400, 300), (step * 40, 0, 0)), step=step, total_steps=5)
    first = sse_frames(next(stream))
    transition(generation_id=generation.pk, to=Status.COMPLETED)
    rest = []
    for chunk in stream:
        rest += sse_frames(chunk)
    frames = first + rest
    previews = [frame["data"] for frame in frames if frame["event"] == "preview"]
    # Five were published while nobody read: at most the one that woke the stream and the newest.
    assert 1 <= len(previews) <= 2
    assert previews[-1]["index"] == 4 and previews[-1]["step"] == 5
    assert [p["index"] for p in previews] == sorted(p["index"] for p in previews)
    assert (previews[-1]["width"], previews[-1]["height"]) == (256, 192)
    assert frames[-1]["data"]["status"] == "completed"

    # A frame reported after the end reaches no stream: a new one ends at once without it.
    reporter.preview(Image.new("RGB", (64, 64)), step=6, total_steps=6)
    late = sse_frames("".join(generation_event_stream(generation_id=generation.pk)))
    assert "preview" not in [frame["event"] for frame in late]


def test_a_stream_opened_while_the_job_runs_starts_with_the_latest_preview(alice, settings):
    settings.ATELIER_PREVIEW_MIN_INTERVAL_MS = 0
    settings.ATELIER_PREVIEW_MAX_SIDE = 128
    generation = Generation.objects.create(
        user=alice.user, model_id=LOCAL_MODEL, provider="local", status=Status.PENDING, width=64, height=64
    )
    transition(generation_id=generation.pk, to=Status.IN_QUEUE)
    transition(generation_id=generation.pk, to=Status.PROCESSING)
    reporter = generation_reporter(generation.pk)
    png = io.BytesIO()
    Image.new("RGB", (1024, 512), (0, 90, 200)).save(png, format="PNG")
    reporter.preview(png.getvalue(), step=3, total_steps=30)  # encoded bytes, as hosted providers send
    reporter.preview(b"not an image", step=4, total_steps=30)  # dropped, the job goes on

    stream = generation_event_stream(generation_id=generation.pk)
    frames = sse_frames("".join(next(stream) for _ in range(4)))
    assert [frame["event"] for frame in frames] == ["status", "status", "preview"]
    preview = frames[-1]["data"]
    assert (preview["index"], preview["step"], preview["total_steps"]) == (0, 3, 30)
    assert _decoded(preview).size == (preview["width"], preview["height"]) == (128, 64)
    transition(generation_id=generation.pk, to=Status.CANCELLED)
    assert sse_frames("".join(stream))[-1]["data"]["status"] == "cancelled"


def test_the_preview_path_is_the_routes():
    assert preview_path(UUID, index=3) == f"{reverse('generation-preview', kwargs={'pk': UUID})}?index=3"


UUID = "0a56cdb1-fffd-4372-9bd7-671afce455f0"


def test_a_preview_receiver_that_fails_never_fails_the_job(alice, settings):
    settings.ATELIER_PREVIEW_MIN_INTERVAL_MS = 0
    heard = []

    def broken(**kwargs):
        heard.append(kwargs["preview"])
        raise RuntimeError("a receiver that breaks")

    generation_preview.connect(broken, weak=False)
    try:
        done = generate_done(alice, width=128, height=128)
    finally:
        generation_preview.disconnect(broken)
    assert done["status"] == "completed"
    # Announced without the picture's bytes, with where to read it.
    assert [p["step"] for p in heard] == [1, 2, 3, 4]
    assert heard[0]["url"] == f"/api/generate/{done['id']}/preview?index=0"
    assert set(heard[0]) == {"index", "url", "width", "height", "step", "total_steps"}
