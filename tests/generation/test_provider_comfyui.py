"""The ComfyUI provider end to end through our HTTP API, against a fake ComfyUI server."""

import threading

import pytest

from catalog.models import AIModel, WorkflowTemplate
from tests.fakes.comfyui import FakeComfyUI
from tests.generation.conftest import fast_follow
from tests.helpers import (
    assert_envelope,
    credits_remaining,
    fetch_image,
    generate,
    generate_done,
    log_messages,
    sse_frames,
    wait_until,
)

pytestmark = pytest.mark.django_db

MODEL = "comfyui/checkpoint"


@pytest.fixture
def comfy(settings):
    fake = FakeComfyUI().start()
    settings.COMFYUI_URL = fake.url
    settings.ATELIER_COMFYUI_LISTEN_SECONDS = 10.0
    fast_follow(settings)
    settings.ATELIER_POLL_INTERVAL_SECONDS = 0.01
    yield fake
    fake.stop()


def test_default_workflow_is_filled_in_and_the_image_stored_at_the_requested_size(alice, comfy):
    generation = generate_done(
        alice,
        model=MODEL,
        prompt="a lighthouse in fog",
        negative_prompt="blurry",
        width=640,
        height=384,
        seed=42,
        steps=12,
        cfg_scale=6.5,
    )

    assert generation["status"] == "completed", generation
    image = fetch_image(alice, generation["images"][0]["url"])
    assert (image.format, image.size) == ("PNG", (640, 384))
    assert generation["images"][0]["seed"] == 42

    [submitted] = comfy.prompts
    assert submitted["client_id"] == generation["id"]
    graph = submitted["prompt"]
    assert graph["4"]["inputs"]["ckpt_name"] == "v1-5-pruned-emaonly.safetensors"
    assert graph["6"]["inputs"]["text"] == generation["final_prompt"]
    assert graph["7"]["inputs"]["text"] == "blurry"
    assert graph["5"]["inputs"] == {"width": 640, "height": 384, "batch_size": 1}
    sampler = graph["3"]["inputs"]
    assert (sampler["seed"], sampler["steps"], sampler["cfg"]) == (42, 12, 6.5)
    # The rest of the template is sent as it is stored.
    assert (sampler["sampler_name"], sampler["model"]) == ("euler", ["4", 0])


def test_a_batch_is_one_prompt_and_the_format_is_converted(alice, comfy):
    generation = generate_done(alice, model=MODEL, width=256, height=320, num_images=3, format="webp")

    assert generation["status"] == "completed", generation
    assert len(generation["images"]) == 3
    for entry in generation["images"]:
        image = fetch_image(alice, entry["url"])
        assert (image.format, image.size) == ("WEBP", (256, 320))
    [submitted] = comfy.prompts
    assert submitted["prompt"]["5"]["inputs"]["batch_size"] == 3
    # The catalog's defaults apply when the request does not say.
    assert (submitted["prompt"]["3"]["inputs"]["steps"], submitted["prompt"]["3"]["inputs"]["cfg"]) == (20, 8.0)


def test_progress_and_node_events_reach_the_generation_and_its_event_stream(alice, comfy):
    generation = generate_done(alice, model=MODEL, width=256, height=256, steps=4)

    assert generation["status"] == "completed", generation
    assert generation["progress"] == 100
    messages = log_messages(generation)
    assert any(message.startswith("Queued on ComfyUI as prompt") for message in messages)
    assert "ComfyUI started the prompt" in messages
    assert "ComfyUI is running node 3" in messages
    assert "Node 9 produced 1 image(s)" in messages
    assert "ComfyUI finished the prompt" in messages

    response = alice.get(f"/api/generate/{generation['id']}/events")
    frames = sse_frames(b"".join(response.streaming_content).decode())
    progress = [frame["data"]["progress"] for frame in frames if frame["event"] == "progress"]
    assert progress[:4] == [25, 50, 75, 100]
    logs = [frame["data"]["message"] for frame in frames if frame["event"] == "log"]
    assert "ComfyUI is running node 3" in logs
    statuses = [frame["data"]["status"] for frame in frames if frame["event"] == "status"]
    assert statuses[-1] == "completed"
    # The fake sent them as ComfyUI does, and only to this job's client.
    assert [data["value"] for data in comfy.sent("progress")] == [1, 2, 3, 4]
    assert {client for client, kind, _ in comfy.events if kind == "progress"} == {generation["id"]}


def test_a_missing_checkpoint_is_refused_with_comfyuis_node_error_and_refunded(alice, comfy):
    AIModel.objects.filter(pk=MODEL).update(provider_model="no-such-model.safetensors")
    before = credits_remaining(alice)

    generation = generate_done(alice, model=MODEL, width=256, height=256)

    assert generation["status"] == "failed"
    assert generation["error_type"] == "provider_error"
    assert "ComfyUI refused the workflow" in generation["error"]
    assert "no-such-model.safetensors" in generation["error"]
    assert comfy.prompts == []
    assert credits_remaining(alice) == before


def test_node_errors_fail_and_refund(alice, comfy):
    comfy.fail_next("node_errors")
    before = credits_remaining(alice)

    generation = generate_done(alice, model=MODEL, width=256, height=256)

    assert generation["status"] == "failed"
    assert "node 5 (EmptyLatentImage): Value bigger than max" in generation["error"]
    assert credits_remaining(alice) == before


def test_an_execution_error_fails_with_the_exception_and_refunds(alice, comfy):
    comfy.fail_next("execution_error")
    before = credits_remaining(alice)

    generation = generate_done(alice, model=MODEL, width=256, height=256, steps=4)

    assert generation["status"] == "failed"
    assert generation["error_type"] == "provider_error"
    assert "ComfyUI failed in node 3 (KSampler)" in generation["error"]
    assert "out of memory" in generation["error"]
    assert generation["images"] == []
    assert credits_remaining(alice) == before


def test_an_answer_that_is_not_json_fails_and_refunds(alice, comfy):
    comfy.fail_next("garbage")
    before = credits_remaining(alice)

    generation = generate_done(alice, model=MODEL, width=256, height=256)

    assert generation["status"] == "failed"
    assert generation["error_type"] == "provider_error"
    assert "could not be read" in generation["error"]
    assert credits_remaining(alice) == before


def test_a_server_error_on_submit_is_retried_then_succeeds(alice, comfy):
    comfy.fail_next("500")

    generation = generate_done(alice, model=MODEL, width=256, height=256)

    assert generation["status"] == "completed", generation
    assert len(comfy.prompts) == 1
    assert any("retrying" in message for message in log_messages(generation))


def test_a_server_error_after_queueing_is_followed_by_polling_without_queueing_twice(alice, comfy):
    comfy.history_failures = 1

    generation = generate_done(alice, model=MODEL, width=256, height=256)

    assert generation["status"] == "completed", generation
    assert len(comfy.prompts) == 1
    assert any("following the prompt by polling" in message for message in log_messages(generation))


def test_a_prompt_the_server_forgot_on_restart_fails_and_refunds(alice, comfy, settings):
    settings.ATELIER_COMFYUI_LISTEN_SECONDS = 0.05
    comfy.hold()
    before = credits_remaining(alice)

    def restart_once_running():
        wait_until(lambda: comfy.running_id, timeout=30)
        comfy.restart()

    restarter = threading.Thread(target=restart_once_running)
    restarter.start()
    generation = generate_done(alice, model=MODEL, width=256, height=256)
    restarter.join()

    assert generation["status"] == "failed"
    assert generation["error_type"] == "provider_error"
    assert "ComfyUI no longer knows the prompt" in generation["error"]
    assert credits_remaining(alice) == before


def test_an_unreachable_server_fails_after_the_retries_and_refunds(alice, comfy, settings):
    settings.COMFYUI_URL = "http://127.0.0.1:9"  # the discard port: nothing listens
    before = credits_remaining(alice)

    generation = generate_done(alice, model=MODEL, width=256, height=256)

    assert generation["status"] == "failed"
    assert generation["error_type"] == "provider_unavailable"
    assert "Could not reach the ComfyUI server" in generation["error"]
    assert credits_remaining(alice) == before


def test_a_slow_prompt_is_followed_over_several_polls(alice, comfy, settings):
    settings.ATELIER_COMFYUI_LISTEN_SECONDS = 0.05
    comfy.step_delay = 0.03

    generation = generate_done(alice, model=MODEL, width=256, height=256, steps=20)

    assert generation["status"] == "completed", generation
    history_reads = [path for _method, path in comfy.requests if path.startswith("/history/")]
    assert len(history_reads) >= 3
    assert fetch_image(alice, generation["images"][0]["url"]).size == (256, 256)


def test_a_workflow_template_edited_in_the_catalog_is_what_comfyui_receives(alice, comfy):
    template = WorkflowTemplate.objects.get(name="text-to-image")
    template.graph["3"]["inputs"]["sampler_name"] = "dpmpp_2m"
    template.save()

    generation = generate_done(alice, model=MODEL, width=256, height=256)

    assert generation["status"] == "completed", generation
    assert comfy.prompts[0]["prompt"]["3"]["inputs"]["sampler_name"] == "dpmpp_2m"


def test_a_model_naming_a_missing_template_fails_and_refunds(alice, comfy):
    AIModel.objects.filter(pk=MODEL).update(defaults={"workflow": "gone"})
    before = credits_remaining(alice)

    generation = generate_done(alice, model=MODEL, width=256, height=256)

    assert generation["status"] == "failed"
    assert "workflow template 'gone' is not in the catalog" in generation["error"]
    assert comfy.prompts == []
    assert credits_remaining(alice) == before


def test_the_model_is_listed_as_available_only_with_a_server_url(alice, comfy, settings):
    assert alice.get(f"/api/models/{MODEL}").json()["model"]["available"] is True
    settings.COMFYUI_URL = ""
    assert alice.get(f"/api/models/{MODEL}").json()["model"]["available"] is False


def test_unavailable_without_a_server_url(alice, comfy, settings):
    settings.COMFYUI_URL = ""
    before = credits_remaining(alice)

    response = generate(alice, model=MODEL, width=256, height=256)

    body = assert_envelope(response, 503, "provider_unavailable")
    assert "comfyui" in body["error"]
    assert comfy.requests == []
    assert credits_remaining(alice) == before


def test_bob_cannot_see_or_cancel_alices_comfyui_generation(alice, bob, comfy):
    generation = generate_done(alice, model=MODEL, width=256, height=256)

    assert_envelope(bob.get(f"/api/generate/{generation['id']}"), 404, "not_found")
    assert_envelope(bob.get(f"/api/generate/{generation['id']}/events"), 404, "not_found")
    assert_envelope(bob.delete(f"/api/generate/{generation['id']}"), 404, "not_found")


class TestCancelOnRealWorkers:
    """Cancelling needs a job running while the API answers: a Celery worker on Redis runs it."""

    pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

    @pytest.fixture
    def worker(self, broker, comfy, settings):
        from celery.contrib.testing.worker import start_worker

        settings.ATELIER_COMFYUI_LISTEN_SECONDS = 0.3
        with start_worker(
            broker,
            pool="threads",
            concurrency=2,
            perform_ping_check=False,
            queues=["generation.comfyui"],
            loglevel="WARNING",
            shutdown_timeout=30,
        ):
            yield
            comfy.release()

    @staticmethod
    def _prompt_id(generation_id) -> str:
        from generation.models import Generation

        return wait_until(
            lambda: Generation.objects.values_list("provider_request_id", flat=True).get(pk=generation_id), timeout=30
        )

    @staticmethod
    def _status(generation_id) -> str:
        from generation.models import Generation

        return Generation.objects.values_list("status", flat=True).get(pk=generation_id)

    def test_progress_shows_while_running_and_cancel_interrupts_only_that_prompt(self, alice, bob, comfy, worker):
        comfy.hold(after_steps=2)
        before = credits_remaining(alice)
        running = generate(alice, model=MODEL, width=256, height=256, steps=4).json()["generation"]["id"]
        running_prompt = self._prompt_id(running)
        wait_until(lambda: comfy.running_id == running_prompt, timeout=30)
        live = wait_until(
            lambda: (g := alice.get(f"/api/generate/{running}").json()["generation"])["progress"] == 50 and g,
            timeout=30,
        )
        assert live["status"] == "processing"
        assert "ComfyUI is running node 3" in log_messages(live)
        queued = generate(bob, model=MODEL, width=256, height=256).json()["generation"]["id"]
        queued_prompt = self._prompt_id(queued)
        wait_until(lambda: comfy.pending_ids == [queued_prompt], timeout=30)

        response = alice.delete(f"/api/generate/{running}")

        assert response.status_code == 200, response.content
        assert comfy.interrupts == [{"prompt_id": running_prompt}]
        assert comfy.queue_deletes == []
        comfy.release()
        wait_until(lambda: self._status(queued) == "completed", timeout=60)
        assert comfy.history[running_prompt]["status"]["status_str"] == "error"
        assert comfy.history[queued_prompt]["status"]["status_str"] == "success"
        generation = alice.get(f"/api/generate/{running}").json()["generation"]
        assert generation["status"] == "cancelled"
        assert generation["images"] == []
        assert credits_remaining(alice) == before
        stream = alice.get(f"/api/generate/{running}/events")
        frames = sse_frames(b"".join(stream.streaming_content).decode())
        assert [f["data"]["progress"] for f in frames if f["event"] == "progress"] == [25, 50]
        assert [f["data"]["status"] for f in frames if f["event"] == "status"][-1] == "cancelled"

    def test_cancelling_a_prompt_still_in_comfyuis_queue_deletes_it_without_interrupting(self, alice, comfy, worker):
        comfy.hold()
        before = credits_remaining(alice)
        created = generate(alice, model=MODEL, width=256, height=256).json()
        first = created["generation"]["id"]
        wait_until(lambda: comfy.running_id == self._prompt_id(first), timeout=30)
        second = generate(alice, model=MODEL, width=256, height=256).json()["generation"]["id"]
        second_prompt = self._prompt_id(second)
        wait_until(lambda: comfy.pending_ids == [second_prompt], timeout=30)

        response = alice.delete(f"/api/generate/{second}")

        assert response.status_code == 200, response.content
        assert comfy.queue_deletes == [second_prompt]
        assert comfy.interrupts == []
        assert comfy.pending_ids == []
        comfy.release()
        wait_until(lambda: self._status(first) == "completed", timeout=60)
        assert self._status(second) == "cancelled"
        assert second_prompt not in comfy.history
        assert credits_remaining(alice) == before - created["credits_used"]
