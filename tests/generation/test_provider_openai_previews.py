"""GPT Image's streamed partial images become the job's previews, through the ``openai`` SDK
against the fake OpenAI Images API."""

import io

import pytest
from PIL import Image

from core.errors import ProviderError, ProviderTransient
from generation.providers import ProviderJob
from generation.providers.openai_images import OpenAIImagesProvider
from tests.generation.conftest import PreviewRecorder

pytestmark = pytest.mark.django_db


@pytest.fixture
def openai_fake(settings):
    from tests.fakes.openai_images import FakeOpenAIImages

    fake = FakeOpenAIImages().start()
    settings.OPENAI_API_KEY = "sk-test-secret-key"
    settings.OPENAI_BASE_URL = fake.base_url
    yield fake
    fake.stop()


def _png(size=(1024, 1024)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 60, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def _job(**overrides) -> ProviderJob:
    values = {
        "generation_id": "00000000-0000-0000-0000-000000000024",
        "model_id": "openai/gpt-image-1",
        "upstream_model": "gpt-image-1",
        "kind": "text-to-image",
        "prompt": "a red balloon",
        "negative_prompt": "",
        "width": 1024,
        "height": 1024,
        "num_images": 1,
        "seed": 1,
        "output_format": "png",
    }
    return ProviderJob(**{**values, **overrides})


def test_gpt_image_streams_two_partial_images_by_default_then_the_final_image(openai_fake):
    recorder = PreviewRecorder()

    submission = OpenAIImagesProvider().submit(_job(), reporter=recorder.reporter)

    [request] = openai_fake.generations
    assert (request.body["stream"], request.body["partial_images"]) == (True, 2)
    assert [(step, total) for _image, step, total in recorder.previews] == [(1, 2), (2, 2)]
    for image, _step, _total in recorder.previews:
        assert (image.format, image.size) == ("PNG", (1024, 1024))
    [output] = submission.outputs
    final = Image.open(io.BytesIO(output.data))
    assert (final.format, final.size, output.width) == ("PNG", (1024, 1024), 1024)
    # The partial images are real, distinct pictures, coarser than the final one.
    assert recorder.previews[0][0].tobytes() != recorder.previews[1][0].tobytes()
    assert recorder.previews[1][0].convert("RGB").tobytes() != final.convert("RGB").tobytes()


def test_the_request_chooses_how_many_partial_images_within_openais_bounds(openai_fake):
    recorder = PreviewRecorder()

    OpenAIImagesProvider().submit(_job(params={"partial_images": 9}, num_images=2), reporter=recorder.reporter)

    [request] = openai_fake.generations
    assert (request.body["partial_images"], request.body["n"]) == (3, 2)
    # Three partial images of each of the two images, in the order they were drawn.
    assert [step for _image, step, _total in recorder.previews] == [1, 2, 3, 1, 2, 3]
    assert recorder.logs[-1] == "Received 2 of 2 image(s) from OpenAI"


def test_without_previews_the_call_is_not_streamed(openai_fake):
    recorder = PreviewRecorder()

    submission = OpenAIImagesProvider().submit(_job(previews=False), reporter=recorder.reporter)

    [request] = openai_fake.generations
    assert "stream" not in request.body and "partial_images" not in request.body
    assert recorder.previews == []
    assert len(submission.outputs) == 1


def test_partial_images_zero_is_a_plain_call(openai_fake):
    OpenAIImagesProvider().submit(_job(params={"partial_images": 0}), reporter=PreviewRecorder().reporter)

    assert "stream" not in openai_fake.generations[0].body


def test_dall_e_is_never_streamed(openai_fake):
    recorder = PreviewRecorder()

    OpenAIImagesProvider().submit(
        _job(model_id="openai/dall-e-3", upstream_model="dall-e-3"), reporter=recorder.reporter
    )

    assert "stream" not in openai_fake.generations[0].body
    assert recorder.previews == []


def test_an_edit_streams_image_edit_partial_images(openai_fake):
    recorder = PreviewRecorder()
    job = _job(model_id="openai/gpt-image-1/edit", kind="image-to-image", image=_png())

    submission = OpenAIImagesProvider().submit(job, reporter=recorder.reporter)

    [request] = openai_fake.edits
    assert (request.body["stream"], request.body["partial_images"]) == ("true", 2)
    assert [step for _image, step, _total in recorder.previews] == [1, 2]
    assert len(submission.outputs) == 1


def test_an_error_event_in_the_stream_fails_the_job_with_openais_message(openai_fake):
    openai_fake.fail_next("stream_error")
    recorder = PreviewRecorder()

    with pytest.raises(ProviderError, match="The image could not be generated"):
        OpenAIImagesProvider().submit(_job(), reporter=recorder.reporter)
    assert len(recorder.previews) == 1


def test_a_stream_that_closes_before_the_image_is_worth_another_try(openai_fake):
    openai_fake.fail_next("stream_cut")

    with pytest.raises(ProviderTransient, match="ended before the image was done"):
        OpenAIImagesProvider().submit(_job(), reporter=PreviewRecorder().reporter)
