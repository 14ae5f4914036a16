"""Seed 002's ComfyUI routes: GET /api/images/comfyui/status and POST /api/images/comfyui/start."""

import os
import signal
import socket
import sys

import httpx2
import pytest

from tests.fakes.comfyui import FakeComfyUI
from tests.helpers import assert_envelope

pytestmark = pytest.mark.django_db

STATUS = "/api/images/comfyui/status"
START = "/api/images/comfyui/start"


@pytest.fixture
def comfy(settings):
    fake = FakeComfyUI().start()
    settings.COMFYUI_URL = fake.url
    yield fake
    fake.release()
    fake.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _stop(pid: int) -> None:
    """Ends a server the start route launched from this process, and reaps it."""
    os.kill(pid, signal.SIGTERM)
    os.waitpid(pid, 0)


def _writes(path) -> list[str]:
    return [sys.executable, "-c", f"open({str(path)!r}, 'w').close()"]


def test_status_reports_a_running_server_with_its_queue_and_devices(alice, comfy):
    comfy.hold()
    for _ in range(2):
        httpx2.post(f"{comfy.url}/prompt", json={"prompt": {"1": {"class_type": "KSampler", "inputs": {}}}})

    response = alice.get(STATUS)

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["reachable"], body["queue_remaining"]) == ("running", True, 2)
    assert body["message"]
    assert body["version"] == "0.3.40"
    assert body["devices"] == [
        {
            "name": "cuda:0 NVIDIA GeForce RTX 4090 : cudaMallocAsync",
            "type": "cuda",
            "index": 0,
            "vram_total": 25393692672,
            "vram_free": 23800000000,
        }
    ]


def test_status_reports_an_unreachable_server(alice, settings):
    settings.COMFYUI_URL = "http://127.0.0.1:9"  # the discard port: nothing listens

    response = alice.get(STATUS)

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["reachable"], body["devices"]) == ("unavailable", False, [])
    assert "Check if ComfyUI is running" in body["message"]


def test_status_says_when_comfyui_is_not_configured(alice, settings):
    settings.COMFYUI_URL = ""

    body = alice.get(STATUS).json()

    assert (body["status"], body["reachable"]) == ("not_configured", False)


def test_status_needs_a_signed_in_user(anon, comfy):
    assert_envelope(anon.get(STATUS), 401, "authentication_required")


def test_start_is_for_staff_only_and_runs_nothing_for_others(alice, anon, settings, tmp_path):
    marker = tmp_path / "started"
    settings.COMFYUI_URL = "http://127.0.0.1:9"
    settings.COMFYUI_START_COMMAND = _writes(marker)

    assert_envelope(alice.post(START), 403, "permission_denied")
    assert_envelope(anon.post(START), 401, "authentication_required")
    assert not marker.exists()


def test_start_runs_the_configured_command_and_waits_until_comfyui_answers(staff, settings):
    port = _free_port()
    settings.COMFYUI_URL = f"http://127.0.0.1:{port}"
    settings.COMFYUI_START_COMMAND = [sys.executable, "-m", "tests.fakes.comfyui", "--port", str(port)]
    settings.ATELIER_COMFYUI_START_WAIT_SECONDS = 30

    response = staff.post(START)

    assert response.status_code == 200, response.content
    body = response.json()
    try:
        assert (body["status"], body["message"]) == ("success", "ComfyUI started successfully")
        assert staff.get(STATUS).json()["status"] == "running"
    finally:
        _stop(body["pid"])


def test_start_never_runs_a_command_from_the_request(staff, settings, tmp_path):
    marker = tmp_path / "from-request"
    settings.COMFYUI_URL = "http://127.0.0.1:9"
    settings.COMFYUI_START_COMMAND = []

    response = staff.post(START, {"command": _writes(marker), "args": ["--listen"]}, format="json")

    body = assert_envelope(response, 500, "server_error")
    assert "COMFYUI_START_COMMAND" in body["details"]["suggestion"]
    assert not marker.exists()


def test_start_does_nothing_when_comfyui_already_runs(staff, comfy, settings, tmp_path):
    marker = tmp_path / "started"
    settings.COMFYUI_START_COMMAND = _writes(marker)

    response = staff.post(START)

    assert response.status_code == 200, response.content
    assert response.json() == {"status": "success", "message": "ComfyUI is already running"}
    assert not marker.exists()


def test_a_start_command_that_exits_is_a_500_with_a_suggestion(staff, settings):
    settings.COMFYUI_URL = "http://127.0.0.1:9"
    settings.COMFYUI_START_COMMAND = [sys.executable, "-c", "import sys; sys.exit(3)"]

    body = assert_envelope(staff.post(START), 500, "server_error")

    assert body["error"] == "ComfyUI could not be started"
    assert body["details"]["error"] == "The start command exited with code 3"
    assert body["details"]["suggestion"]


def test_a_start_command_that_does_not_exist_is_a_500_with_a_suggestion(staff, settings, tmp_path):
    settings.COMFYUI_URL = "http://127.0.0.1:9"
    settings.COMFYUI_START_COMMAND = [str(tmp_path / "no-such-program")]

    body = assert_envelope(staff.post(START), 500, "server_error")

    assert body["details"]["error"].startswith("Could not run the start command")
    assert "exists" in body["details"]["suggestion"]


def test_a_server_that_never_answers_is_a_500_naming_its_process(staff, settings):
    settings.COMFYUI_URL = "http://127.0.0.1:9"
    settings.COMFYUI_START_COMMAND = [sys.executable, "-c", "import time; time.sleep(60)"]
    settings.ATELIER_COMFYUI_START_WAIT_SECONDS = 0.5

    body = assert_envelope(staff.post(START), 500, "server_error")

    try:
        assert "did not answer within 0.5 s" in body["details"]["error"]
    finally:
        _stop(body["details"]["pid"])


def test_start_without_a_comfyui_url_is_a_500_with_a_suggestion(staff, settings):
    settings.COMFYUI_URL = ""
    settings.COMFYUI_START_COMMAND = [sys.executable, "-c", "pass"]

    body = assert_envelope(staff.post(START), 500, "server_error")

    assert "COMFYUI_URL" in body["details"]["suggestion"]
