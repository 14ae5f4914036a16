"""fal's streaming endpoint: the frames of a model that streams become the job's previews, through
fal-client's ``stream`` against the fake fal; other models and jobs without previews queue."""

import pytest

from core.errors import ProviderTransient, ValidationFailed
from generation.providers import ProviderJob
from generation.providers.fal import FalProvider
from tests.generation.conftest import PreviewRecorder, fal_configured

pytestmark = pytest.mark.django_db


@pytest.fixture
def fal(settings):
    return fal_configured(settings)


def _job(**overrides) -> ProviderJob:
    values = {
        "generation_id": "00000000-0000-0000-0000-0000000000fa",
        "model_id": "fal-ai/fast-sdxl",
        "upstream_model": "fal-ai/fast-sdxl",
        "kind": "text-to-image",
        "prompt": "a red fox in the snow",
        "negative_prompt": "",
        "width": 512,
        "height": 384,
        "num_images": 1,
        "seed": 11,
        "output_format": "png",
        "defaults": {"stream": True},
    }
    return ProviderJob(**{**values, **overrides})


def test_a_streaming_model_is_called_on_its_stream_endpoint_and_its_frames_previewed(fal):
    recorder = PreviewRecorder()

    submission = FalProvider().submit(_job(), reporter=recorder.reporter)

    [call] = fal.submits()
    assert call.path == "/fal-ai/fast-sdxl/stream"
    assert call.body["prompt"] == "a red fox in the snow" and "stream" not in call.body
    assert fal.only_job().streamed
    # Every event but the last is a frame in progress; the last is the result.
    assert [(step, total) for _image, step, total in recorder.previews] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    for image, _step, _total in recorder.previews:
        assert (image.format, image.size) == ("JPEG", (64, 48))
    shades = [image.getpixel((0, 0))[0] for image, _step, _total in recorder.previews]
    assert shades == sorted(shades) and len(set(shades)) == 4
    [output] = submission.outputs
    assert (output.format, output.width, output.height) == ("png", 512, 384)
    assert "Streaming from fal" in recorder.logs


def test_without_previews_a_streaming_model_is_queued_as_usual(fal):
    recorder = PreviewRecorder()

    submission = FalProvider().submit(_job(previews=False), reporter=recorder.reporter)

    [call] = fal.submits()
    assert call.path == "/fal-ai/fast-sdxl"
    assert not submission.finished and submission.request_id
    assert recorder.previews == []


def test_a_model_that_does_not_stream_is_queued(fal):
    recorder = PreviewRecorder()

    FalProvider().submit(_job(defaults={}), reporter=recorder.reporter)

    assert [call.path for call in fal.submits()] == ["/fal-ai/fast-sdxl"]
    assert recorder.previews == []


def test_an_app_without_a_stream_endpoint_falls_back_to_the_queue(fal):
    fal.streams = False
    recorder = PreviewRecorder()

    submission = FalProvider().submit(_job(), reporter=recorder.reporter)

    assert [call.path for call in fal.submits()] == ["/fal-ai/fast-sdxl/stream", "/fal-ai/fast-sdxl"]
    assert submission.request_id and not submission.finished
    assert "fal's streaming endpoint did not stream; queueing the request instead" in recorder.logs


def test_a_refused_stream_falls_back_to_the_queue_whose_answer_says_why(fal):
    fal.fail_next("422", times=2)

    with pytest.raises(ValidationFailed, match="Invalid image size"):
        FalProvider().submit(_job(), reporter=PreviewRecorder().reporter)
    assert [call.path for call in fal.submits()] == ["/fal-ai/fast-sdxl/stream", "/fal-ai/fast-sdxl"]


def test_a_stream_dropped_midway_is_worth_another_try(fal):
    fal.fail_next("stream_cut")
    recorder = PreviewRecorder()

    with pytest.raises(ProviderTransient):
        FalProvider().submit(_job(), reporter=recorder.reporter)
