"""Streamed image generation and edits through the official ``openai`` SDK: partial images
from the job's live previews, then the completed image, as OpenAI's events."""

import base64
import io

import openai
import pytest
from openai.types import ImageEditCompletedEvent, ImageGenCompletedEvent, ImageGenPartialImageEvent
from PIL import Image

from generation.models import Generation
from tests.helpers import asgi_server_running, credits_remaining
from tests.legacy.test_openai_images import png, sdk

pytestmark = pytest.mark.django_db(transaction=True)


def _image(b64: str) -> Image.Image:
    image = Image.open(io.BytesIO(base64.b64decode(b64)))
    image.load()
    return image


def near(pixel, colour) -> bool:
    """The previews are lossy WebP: a colour comes back within a few levels."""
    return all(abs(a - b) <= 8 for a, b in zip(pixel[:3], colour, strict=True))


def test_a_streamed_generation_ends_with_the_completed_image(live_server, alice):
    stream = sdk(live_server, alice.secret).images.generate(
        prompt="a red kite", size="256x192", stream=True, partial_images=0, output_format="webp"
    )
    events = list(stream)
    [completed] = events
    assert isinstance(completed, ImageGenCompletedEvent)
    assert completed.type == "image_generation.completed"
    assert (completed.size, completed.output_format, completed.quality, completed.background) == (
        "256x192",
        "webp",
        "auto",
        "auto",
    )
    assert completed.created_at > 0
    image = _image(completed.b64_json)
    assert (image.format, image.size) == ("WEBP", (256, 192))
    generation = Generation.objects.get()
    assert (generation.api, generation.status) == ("openai", "completed")


@pytest.mark.redis
def test_partial_images_come_from_the_live_previews_before_the_image(live_server, alice, painting, worker, settings):
    settings.ATELIER_PREVIEW_MIN_INTERVAL_MS = 0
    painting.next_frame.clear()  # the second frame once the first has arrived
    # The job waits for the client: were the partial images held back, the read would time out.
    stream = sdk(live_server, alice.secret).images.generate(
        prompt="a slow lighthouse", model="test/painting", size="128x96", stream=True, partial_images=2
    )
    events = []
    for event in stream:
        events.append(event)
        partials = len([e for e in events if e.type == "image_generation.partial_image"])
        if partials == 1:
            painting.next_frame.set()
        elif partials == 2:
            painting.gate.set()  # the job may finish now
    *partials, completed = events
    assert [type(event) for event in partials] == [ImageGenPartialImageEvent, ImageGenPartialImageEvent]
    assert [event.partial_image_index for event in partials] == [0, 1]
    first, second = (_image(event.b64_json) for event in partials)
    assert first.format == second.format == "PNG"
    assert near(first.getpixel((first.width // 2, first.height // 2)), (200, 40, 40))
    assert near(second.getpixel((second.width // 2, second.height // 2)), (40, 200, 40))
    assert all(event.size == "128x96" for event in partials)
    assert isinstance(completed, ImageGenCompletedEvent)
    assert _image(completed.b64_json).size == (128, 96)


def test_a_streamed_edit_with_a_mask_answers_image_edit_events(live_server, alice):
    stream = sdk(live_server, alice.secret).images.edit(
        image=("photo.png", png(), "image/png"),
        mask=("mask.png", png(colour=255, mode="L"), "image/png"),
        prompt="stars",
        stream=True,
        partial_images=1,
    )
    [completed] = list(stream)
    assert isinstance(completed, ImageEditCompletedEvent)
    assert completed.type == "image_edit.completed"
    assert _image(completed.b64_json).size == (96, 64)
    assert Generation.objects.get().model_id == "local/inpainting"


def test_a_job_that_fails_while_streaming_is_an_error_event_and_refunded(live_server, alice, monkeypatch):
    from core.errors import ProviderError
    from generation.providers.local import LocalProvider

    def refuse(self, job, *, reporter):
        raise ProviderError("The provider refused the prompt")

    monkeypatch.setattr(LocalProvider, "submit", refuse)
    before = credits_remaining(alice)
    stream = sdk(live_server, alice.secret).images.generate(prompt="a kite", size="256x256", stream=True)
    with pytest.raises(openai.APIError) as failed:
        list(stream)
    assert "refused the prompt" in failed.value.message
    assert failed.value.body["type"] == "server_error"
    assert credits_remaining(alice) == before


def test_refusals_before_the_stream_are_the_sdks_errors(live_server, alice):
    client = sdk(live_server, alice.secret)
    with pytest.raises(openai.BadRequestError) as too_many:
        client.images.generate(prompt="a kite", stream=True, partial_images=4)
    assert too_many.value.param == "partial_images"
    with pytest.raises(openai.AuthenticationError):
        sdk(live_server, "not-a-key").images.generate(prompt="a kite", stream=True)
    assert Generation.objects.count() == 0


@pytest.mark.redis
def test_partial_images_arrive_while_the_job_runs_under_asgi(alice, painting, worker, settings):
    """Under ASGI (production's server) each event leaves as it comes: the second frame is
    painted only once the client holds the first partial image."""
    from config.asgi import application

    settings.ATELIER_PREVIEW_MIN_INTERVAL_MS = 0
    painting.next_frame.clear()  # were the events held back until the end, the read would time out
    with asgi_server_running(application) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key=alice.secret, max_retries=0, timeout=30)
        events = []
        for event in client.images.generate(
            prompt="a slow lighthouse", model="test/painting", size="128x96", stream=True, partial_images=2
        ):
            events.append(event)
            if event.type == "image_generation.partial_image":
                (painting.next_frame if event.partial_image_index == 0 else painting.gate).set()
    assert [event.type for event in events] == [
        "image_generation.partial_image",
        "image_generation.partial_image",
        "image_generation.completed",
    ]
    assert near(_image(events[1].b64_json).getpixel((64, 48)), (40, 200, 40))
