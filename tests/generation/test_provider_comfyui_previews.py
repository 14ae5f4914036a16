"""ComfyUI's binary preview frames become the job's previews, attributed to the right prompt.

The adapter is driven against the fake ComfyUI with a reporter that records what it is given.
"""

import io
import json
import struct

import pytest
from PIL import Image

from catalog.selectors import workflow_template_get
from catalog.workflows import SLOT_TYPES
from generation.providers import ProviderJob, Workflow
from generation.providers.comfyui import ComfyUIProvider
from generation.providers.comfyui_events import preview_of
from tests.fakes.comfyui import FakeComfyUI
from tests.generation.conftest import PreviewRecorder

pytestmark = pytest.mark.django_db


@pytest.fixture
def comfy(settings):
    fake = FakeComfyUI().start()
    settings.COMFYUI_URL = fake.url
    settings.ATELIER_COMFYUI_LISTEN_SECONDS = 10.0
    yield fake
    fake.stop()


def _job(**overrides) -> ProviderJob:
    template = workflow_template_get(name="text-to-image")
    values = {
        "generation_id": "0a6f2b8e-5d1c-4c55-9d67-5b1f1b9e0001",
        "model_id": "comfyui/checkpoint",
        "upstream_model": "v1-5-pruned-emaonly.safetensors",
        "kind": "text-to-image",
        "prompt": "a lighthouse in fog",
        "negative_prompt": "",
        "width": 256,
        "height": 320,
        "num_images": 1,
        "seed": 7,
        "output_format": "png",
        "params": {"num_inference_steps": 4},
        "workflow": Workflow(
            name=template.name, graph=template.graph, slots=template.slots, slot_types=dict(SLOT_TYPES)
        ),
    }
    return ProviderJob(**{**values, **overrides})


def test_previews_with_metadata_arrive_in_step_order_before_the_result(comfy):
    recorder = PreviewRecorder()

    submission = ComfyUIProvider().submit(_job(), reporter=recorder.reporter)

    assert submission.finished
    # The client announced supports_preview_metadata: every frame named its prompt (type 4).
    [prompt_id] = {prompt for _client, _kind, prompt, _step in comfy.previews_sent}
    assert [kind for _client, kind, _prompt, _step in comfy.previews_sent] == [4, 4, 4, 4]
    assert [(step, total) for _image, step, total in recorder.previews] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    for image, _step, _total in recorder.previews:
        assert (image.format, image.size) == ("JPEG", (32, 40))
    # Lighter step by step, as the fake's sampler draws them: real frames, in order.
    shades = [image.getpixel((0, 0))[0] for image, _step, _total in recorder.previews]
    assert shades == sorted(shades) and len(set(shades)) == 4
    assert prompt_id == comfy.history[prompt_id]["prompt"][1]


def test_an_older_server_sends_plain_frames_attributed_to_the_executing_prompt(comfy):
    comfy.knows_feature_flags = False
    recorder = PreviewRecorder()

    ComfyUIProvider().submit(_job(), reporter=recorder.reporter)

    assert [kind for _client, kind, _prompt, _step in comfy.previews_sent] == [1, 1, 1, 1]
    assert [step for _image, step, _total in recorder.previews] == [1, 2, 3, 4]


def test_no_previews_are_forwarded_when_the_request_turned_them_off(comfy):
    recorder = PreviewRecorder()

    submission = ComfyUIProvider().submit(_job(previews=False), reporter=recorder.reporter)

    assert submission.finished
    assert len(comfy.previews_sent) == 4
    assert recorder.previews == []
    assert recorder.progress[-1] == 100


def test_a_server_without_a_preview_method_sends_none_and_the_job_still_completes(comfy):
    comfy.previews = False
    recorder = PreviewRecorder()

    submission = ComfyUIProvider().submit(_job(), reporter=recorder.reporter)

    assert submission.finished
    assert recorder.previews == []


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 20, 30)).save(buffer, format="JPEG")
    return buffer.getvalue()


def test_a_plain_frame_belongs_only_to_the_prompt_executing_when_it_came():
    frame = struct.pack(">II", 1, 1) + _jpeg()

    assert preview_of(frame, prompt_id="mine", executing="mine") == _jpeg()
    assert preview_of(frame, prompt_id="mine", executing="theirs") is None
    assert preview_of(frame, prompt_id="mine", executing=None) is None


def test_a_metadata_frame_belongs_to_the_prompt_it_names_whatever_is_executing():
    metadata = json.dumps({"node_id": "3", "prompt_id": "theirs", "image_type": "image/jpeg"}).encode()
    theirs = struct.pack(">II", 4, len(metadata)) + metadata + _jpeg()
    metadata = json.dumps({"node_id": "3", "prompt_id": "mine", "image_type": "image/jpeg"}).encode()
    mine = struct.pack(">II", 4, len(metadata)) + metadata + _jpeg()

    assert preview_of(theirs, prompt_id="mine", executing="mine") is None
    assert preview_of(mine, prompt_id="mine", executing="theirs") == _jpeg()
    # Unencoded previews (type 2), text (type 3) and truncated frames are not images of ours.
    assert preview_of(struct.pack(">II", 2, 1) + _jpeg(), prompt_id="mine", executing="mine") is None
    assert preview_of(b"\x00\x00", prompt_id="mine", executing="mine") is None
    assert preview_of(struct.pack(">II", 4, 99) + b"{", prompt_id="mine", executing="mine") is None
