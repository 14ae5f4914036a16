"""Replicate's streamed predictions: the ``output`` events of an iterator model become the job's
previews, through the ``replicate`` SDK against the fake Replicate; other models show none."""

import pytest

from generation.providers import ProviderJob
from generation.providers.replicate import ReplicateProvider
from tests.generation.conftest import PreviewRecorder, replicate_configured

pytestmark = pytest.mark.django_db


@pytest.fixture
def replicate(settings):
    fake = replicate_configured(settings)
    fake.run_seconds = 0.2
    yield fake
    fake.stop()


def _job(**overrides) -> ProviderJob:
    values = {
        "generation_id": "00000000-0000-0000-0000-0000000000ee",
        "model_id": "replicate/anotherjesse/streaming-sdxl",
        "upstream_model": "anotherjesse/streaming-sdxl",
        "kind": "text-to-image",
        "prompt": "a lighthouse in fog",
        "negative_prompt": "",
        "width": 512,
        "height": 384,
        "num_images": 1,
        "seed": 77,
        "output_format": "png",
        "defaults": {"stream": True},
    }
    return ProviderJob(**{**values, **overrides})


def test_a_streaming_model_is_followed_on_its_stream_and_finishes_inline(replicate):
    recorder = PreviewRecorder()

    submission = ReplicateProvider().submit(_job(), reporter=recorder.reporter)

    [create] = replicate.creates()
    assert create.body["stream"] is True
    assert replicate.calls("GET", "/v1/streams/" + recorder.request_ids[0])
    # The four frames, in order, then the final image (the last output event before done).
    frames = [(image.size, step) for image, step, _total in recorder.previews]
    assert frames[:4] == [((64, 48), 1), ((64, 48), 2), ((64, 48), 3), ((64, 48), 4)]
    assert len(frames) == 5 and frames[4][0] == (512, 384)
    shades = [image.getpixel((0, 0))[0] for image, _step, _total in recorder.previews[:4]]
    assert shades == sorted(shades) and len(set(shades)) == 4
    # Only the final image is kept, not the frames the iterator listed before it.
    [output] = submission.outputs
    assert (output.width, output.height) == (512, 384)


def test_without_previews_the_prediction_is_not_streamed(replicate):
    recorder = PreviewRecorder()

    submission = ReplicateProvider().submit(_job(previews=False), reporter=recorder.reporter)

    [create] = replicate.creates()
    assert "stream" not in create.body
    assert not submission.finished and recorder.previews == []


def test_a_model_that_does_not_stream_shows_no_previews(replicate):
    recorder = PreviewRecorder()

    submission = ReplicateProvider().submit(_job(defaults={}), reporter=recorder.reporter)

    assert "stream" not in replicate.creates()[0].body
    assert not submission.finished and recorder.previews == []


def test_a_prediction_without_a_stream_url_is_left_to_polls_which_preview_the_newest_frame(replicate, settings):
    replicate.streams = False
    recorder = PreviewRecorder()
    provider = ReplicateProvider()
    job = _job()

    submission = provider.submit(job, reporter=recorder.reporter)
    assert not submission.finished
    while not submission.finished:
        submission = provider.poll(submission.request_id, job=job, reporter=recorder.reporter)

    # No frame is listed by a model that does not stream; the prediction still completes.
    assert recorder.previews == []
    assert len(submission.outputs) == 1


def test_polls_preview_the_newest_frame_an_iterator_model_lists_once(replicate, settings):
    settings.ATELIER_REPLICATE_STREAM_SECONDS = 0.0
    replicate.run_seconds = 0.4
    recorder = PreviewRecorder()
    provider = ReplicateProvider()
    job = _job()

    submission = provider.submit(job, reporter=recorder.reporter)
    assert not submission.finished
    while not submission.finished:
        submission = provider.poll(submission.request_id, job=job, reporter=recorder.reporter)

    steps = [step for _image, step, _total in recorder.previews]
    assert steps == sorted(set(steps)) and steps  # each frame once, in order
    [output] = submission.outputs
    assert (output.width, output.height) == (512, 384)


def test_a_short_stream_window_hands_over_to_polls_without_showing_a_frame_twice(replicate, settings):
    settings.ATELIER_REPLICATE_STREAM_SECONDS = 0.01
    replicate.run_seconds = 0.4
    recorder = PreviewRecorder()
    provider = ReplicateProvider()
    job = _job()

    submission = provider.submit(job, reporter=recorder.reporter)
    assert not submission.finished
    streamed = len(recorder.previews)
    while not submission.finished:
        submission = provider.poll(submission.request_id, job=job, reporter=recorder.reporter)

    steps = [step for _image, step, _total in recorder.previews]
    assert streamed >= 1 and steps[0] == 1
    assert steps == sorted(set(steps))


def test_a_streamed_prediction_that_fails_fails_the_job_with_replicates_error(replicate):
    from core.errors import ProviderError

    replicate.fail_next("failed")

    with pytest.raises(ProviderError, match="CUDA out of memory"):
        ReplicateProvider().submit(_job(), reporter=PreviewRecorder().reporter)


def test_a_stream_url_on_another_plain_http_host_is_not_followed_with_our_token(replicate):
    replicate.stream_base = "http://192.0.2.1:9"
    recorder = PreviewRecorder()
    provider = ReplicateProvider()
    job = _job()

    submission = provider.submit(job, reporter=recorder.reporter)

    assert not submission.finished
    assert not replicate.calls("GET", "/v1/streams/" + submission.request_id)
    while not submission.finished:
        submission = provider.poll(submission.request_id, job=job, reporter=recorder.reporter)
    assert len(submission.outputs) == 1


def test_with_a_webhook_the_output_event_is_asked_for_and_each_new_frame_it_lists_previewed_once(replicate, settings):
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:9"  # nothing listens: the fake's deliveries fail at once
    settings.ATELIER_REPLICATE_STREAM_SECONDS = 0.0
    recorder = PreviewRecorder()
    provider = ReplicateProvider()
    job = _job()

    submission = provider.submit(job, reporter=recorder.reporter)

    [create] = replicate.creates()
    assert create.body["webhook_events_filter"] == ["start", "logs", "completed", "output"]
    prediction = replicate.predictions[submission.request_id]
    frames = [replicate.frame(prediction, step) for step in (1, 2, 3)]
    for listed in (frames[:2], frames[:2], frames):
        payload = {"id": prediction.id, "status": "processing", "logs": "", "output": listed}
        provider.webhook_update(payload, request_id=prediction.id, job=job, reporter=recorder.reporter)
    assert [step for _image, step, _total in recorder.previews] == [2, 3]


def test_without_previews_the_webhook_is_not_asked_for_output_events(replicate, settings):
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:9"  # nothing listens: the fake's deliveries fail at once

    ReplicateProvider().submit(_job(previews=False), reporter=PreviewRecorder().reporter)

    assert replicate.creates()[0].body["webhook_events_filter"] == ["start", "logs", "completed"]


def test_a_failed_read_after_the_stream_leaves_the_prediction_to_polls_without_creating_it_again(replicate):
    replicate.get_failures = 1
    recorder = PreviewRecorder()
    provider = ReplicateProvider()
    job = _job()

    submission = provider.submit(job, reporter=recorder.reporter)

    assert not submission.finished and submission.request_id
    assert any(line.endswith("following the prediction by polling") for line in recorder.logs)
    submission = provider.poll(submission.request_id, job=job, reporter=recorder.reporter)
    assert len(submission.outputs) == 1
    assert len(replicate.creates()) == 1
