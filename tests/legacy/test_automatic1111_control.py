"""A1111's controls through the ``webuiapi`` client: following a running job (with its live
picture), interrupting or skipping it, and reading what made an image (``png-info``). A second
user sees none of the first user's jobs or images, and stops none of them."""

import base64
import io

import pytest
import requests
import webuiapi
from PIL import Image

from generation.models import Generation
from tests.helpers import credits_remaining, wait_until
from tests.legacy.conftest import in_background

pytestmark = pytest.mark.django_db(transaction=True)


def _webui(live_server, client) -> webuiapi.WebUIApi:
    api = webuiapi.WebUIApi(host="127.0.0.1", port=int(live_server.url.rsplit(":", 1)[1]))
    api.set_auth("me", client.secret)
    return api


def _running_txt2img(api: webuiapi.WebUIApi, painting):
    """A txt2img on the painting model, waiting in a thread while its job runs."""
    thread, outcome = in_background(
        lambda: api.txt2img(
            prompt="a slow lighthouse", width=128, height=96, override_settings={"sd_model_checkpoint": "test/painting"}
        )
    )
    assert painting.started.wait(30), outcome
    return thread, outcome


def test_progress_shows_the_running_job_to_its_owner_only(live_server, alice, bob, painting):
    alice_api, bob_api = _webui(live_server, alice), _webui(live_server, bob)
    thread, outcome = _running_txt2img(alice_api, painting)
    generation = Generation.objects.get()
    progress = wait_until(lambda: (p := alice_api.get_progress())["progress"] > 0 and p, timeout=15)
    assert progress["state"]["job"] == str(generation.pk)
    assert progress["state"]["job_count"] == 1
    assert progress["textinfo"] == "processing"
    # Bob sees nothing running, and his interrupt and skip stop nothing of Alice's.
    idle = bob_api.get_progress()
    assert idle["state"]["job_count"] == 0 and idle["current_image"] is None
    assert bob_api.interrupt() == {}
    assert bob_api.skip() is None
    assert Generation.objects.get().status == "processing"
    painting.gate.set()
    thread.join(30)
    assert [image.size for image in outcome["result"].images] == [(128, 96)]


def test_progress_shows_the_running_jobs_newest_live_picture(live_server, alice, painting, settings):
    settings.ATELIER_PREVIEW_MIN_INTERVAL_MS = 0  # the fake paints its two frames at once
    api = _webui(live_server, alice)
    thread, outcome = _running_txt2img(api, painting)
    progress = wait_until(lambda: (p := api.get_progress())["current_image"] and p, timeout=15)
    picture = Image.open(io.BytesIO(base64.b64decode(progress["current_image"])))
    assert picture.format == "PNG"
    assert all(abs(a - b) <= 8 for a, b in zip(picture.getpixel((32, 24))[:3], (40, 200, 40), strict=True))
    skipped = requests.get(
        f"{live_server.url}/sdapi/v1/progress",
        params={"skip_current_image": "true"},
        auth=("me", alice.secret),
        timeout=30,
    )
    assert skipped.json()["current_image"] is None
    assert skipped.json()["state"]["job"] == progress["state"]["job"]
    painting.gate.set()
    thread.join(30)
    assert outcome["result"].images[0].size == (128, 96)
    assert api.get_progress()["current_image"] is None


@pytest.mark.parametrize("control", ["interrupt", "skip"])
def test_interrupt_and_skip_cancel_the_owners_job_and_refund_it(live_server, alice, painting, control):
    api = _webui(live_server, alice)
    before = credits_remaining(alice)
    thread, outcome = _running_txt2img(api, painting)
    assert credits_remaining(alice) < before
    answer = getattr(api, control)()
    assert answer == ({} if control == "interrupt" else None)
    assert Generation.objects.get().status == "cancelled"
    painting.gate.set()
    thread.join(30)
    # The waiting request answers as A1111 answers an interrupted job: no images, and its info.
    result = outcome["result"]
    assert result.images == []
    assert result.info["generation_id"] == str(Generation.objects.get().pk)
    assert credits_remaining(alice) == before
    assert api.get_progress()["state"]["job_count"] == 0
    # With nothing running, both are no-ops.
    assert api.interrupt() == {}


def test_png_info_reads_what_made_an_image(live_server, alice, bob):
    alice_api = _webui(live_server, alice)
    result = alice_api.txt2img(
        prompt="a lighthouse at dusk", negative_prompt="fog", width=256, height=192, seed=42, steps=8
    )
    info = alice_api.png_info(result.images[0]).json
    assert info["info"].startswith("a lighthouse at dusk\nNegative prompt: fog\n")
    parameters = info["parameters"]
    assert parameters["Prompt"] == "a lighthouse at dusk"
    assert parameters["Negative prompt"] == "fog"
    assert (parameters["Seed"], parameters["Size-1"], parameters["Size-2"]) == ("42", "256", "192")
    assert parameters["Model"] == "local/procedural"
    assert '"generation_id"' in info["items"]["atelier"]
    # The same, of an image in the gallery, by its id: to its owner only.
    [asset] = alice.get("/api/gallery").json()["images"]
    url = f"{live_server.url}/sdapi/v1/png-info"
    by_id = requests.get(url, params={"asset_id": asset["id"]}, auth=("me", alice.secret), timeout=30)
    assert by_id.status_code == 200, by_id.text
    assert by_id.json()["info"] == info["info"]
    for params in ({"asset_id": asset["id"]}, {"asset_id": "nope"}, {}):
        refused = requests.get(url, params=params, auth=("me", bob.secret), timeout=30)
        assert refused.status_code == 404, refused.text
        assert refused.json()["detail"]


def test_png_info_of_an_image_without_metadata_or_of_no_image(live_server, alice):
    url = f"{live_server.url}/sdapi/v1/png-info"
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, "PNG")
    plain = requests.post(
        url, json={"image": base64.b64encode(buffer.getvalue()).decode()}, auth=("me", alice.secret), timeout=30
    )
    assert plain.json() == {"info": "", "items": {}, "parameters": {}}
    assert requests.post(url, json={"image": ""}, auth=("me", alice.secret), timeout=30).json()["info"] == ""
    for image in ("not base64!", base64.b64encode(b"not an image").decode(), 5):
        refused = requests.post(url, json={"image": image}, auth=("me", alice.secret), timeout=30)
        assert refused.status_code == 422, refused.text
        assert list(refused.json()["errors"]) == ["image"]
