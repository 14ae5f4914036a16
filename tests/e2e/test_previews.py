"""A person watches the studio paint in Chromium: the job card shows the picture so far,
replaced as layers arrive, then the result; with previews turned off it shows only the result.
A real worker (on the in-process broker) paints while the live server streams the job."""

import base64
import io

import pytest
from PIL import Image

from accounts.services import user_create
from generation.models import Generation
from tests.worker import FilesystemBroker

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long enough passphrase 42"


@pytest.fixture
def worker(tmp_path, settings):
    # Each layer is published, and painting pauses between layers so that a person (and the
    # test) can watch it: four layers, two thirds of a second each.
    settings.ATELIER_PREVIEW_MIN_INTERVAL_MS = 0
    settings.ATELIER_LOCAL_PAINT_DELAY_MS = 700
    with FilesystemBroker(tmp_path / "broker", transport="memory") as broker:
        broker.start_worker(queues=["generation.local"])
        yield broker


def _sign_in(page, base: str, email: str) -> None:
    user_create(email=email, password=PASSWORD)
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")


def _generate(page, prompt: str) -> None:
    page.get_by_label("Prompt", exact=True).fill(prompt)
    page.get_by_label("Model").select_option("local/procedural")
    page.get_by_role("spinbutton", name="Seed").fill("4242")
    page.get_by_role("button", name="Generate").click()


def test_the_job_card_shows_the_picture_as_it_paints_then_the_result(live_server, worker, new_page, screenshot):
    base = live_server.url
    page = new_page()
    _sign_in(page, base, "painter@example.com")
    assert page.get_by_label("Show the picture as it is made").is_checked()
    # A model that sends no pictures says so beside the checkbox.
    none = page.locator("#previews-none")
    page.get_by_label("Model").select_option("local/upscale")
    assert none.is_visible()
    page.get_by_label("Model").select_option("local/procedural")
    assert none.is_hidden()

    _generate(page, "a lighthouse on a cliff at sunset, warm light")
    job = page.locator("article.job").first
    preview = job.locator("[data-role=preview]")
    preview.wait_for(state="visible")
    picture = job.locator("[data-role=preview-image]")
    page.wait_for_function(
        "() => document.querySelector('article.job [data-role=preview-image]').naturalWidth > 0", timeout=20_000
    )
    # The picture so far, before any result, and the step it shows.
    assert job.locator(".results img").count() == 0
    assert job.locator("[data-role=status]").inner_text() == "Generating…"
    assert job.locator("[data-role=preview-step]").inner_text().startswith("Step ")
    first = _data_url_image(picture.get_attribute("src"))
    assert first.format == "WEBP" and max(first.size) <= 256
    # The next layer replaces it.
    page.wait_for_function("() => (document.querySelector('article.job').dataset.previews || '').includes(',')")
    screenshot(page, "studio-preview")
    assert _data_url_image(picture.get_attribute("src")).tobytes() != first.tobytes()

    # Then the result takes its place.
    job.locator(".results img").first.wait_for()
    page.wait_for_function("() => document.querySelector('.studio .results img').naturalWidth > 0")
    assert job.locator("[data-role=status]").inner_text() == "Done"
    assert preview.is_hidden()
    shown = [int(index) for index in job.get_attribute("data-previews").split(",")]
    assert shown == sorted(shown) and len(shown) >= 2, shown
    screenshot(page, "studio-preview-result")
    assert not page.errors

    # Turned off (and remembered): the next job shows no picture until its result.
    page.get_by_label("Show the picture as it is made").uncheck()
    page.reload()
    assert not page.get_by_label("Show the picture as it is made").is_checked()
    _generate(page, "a quiet harbour at night")
    job = page.locator("article.job").first
    job.locator(".results img").first.wait_for(timeout=30_000)
    assert job.get_attribute("data-previews") is None
    assert Generation.objects.filter(prompt="a quiet harbour at night", previews=False).exists()
    assert not page.errors


def _data_url_image(src: str) -> Image.Image:
    head, _, encoded = src.partition(",")
    assert head == "data:image/webp;base64"
    image = Image.open(io.BytesIO(base64.b64decode(encoded)))
    image.load()
    return image


def test_cancel_all_queued_from_the_studio(live_server, tmp_path, new_page, screenshot):
    # No worker takes the jobs: they wait in the queue.
    with FilesystemBroker(tmp_path / "broker", transport="memory"):
        page = new_page()
        _sign_in(page, live_server.url, "queuer@example.com")
        bar = page.locator("#jobs-bar")
        assert bar.is_hidden()
        before = int(page.locator("#credits-balance").inner_text())
        for prompt in ("a red kite over dunes", "a green kite over hills"):
            _generate(page, prompt)
            page.locator(f"article.job:has-text('{prompt}')").wait_for()
        page.get_by_role("button", name="Cancel all queued").click()
        page.get_by_text("Cancelled 2 queued jobs; 2 credits back.").wait_for()
        for job in page.locator("article.job").all():
            job.locator("[data-role=status][data-status=cancelled]").wait_for()
        assert int(page.locator("#credits-balance").inner_text()) == before
        screenshot(page, "studio-cancel-queued")
        assert not page.errors
