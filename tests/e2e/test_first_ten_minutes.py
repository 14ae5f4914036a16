"""A new user's first ten minutes in Chromium at 1400×900: the landing page, sign-up, the studio's
words and errors, a job watched from the queue to its images, one tile ticked and filed in a
collection, a download, and share links that no longer work."""

import io
import re

import pytest
from PIL import Image

from generation.models import Generation
from generation.tasks import run_generation
from tests.helpers import generate

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long enough passphrase 42"
# What the pages must never show a person: machine names where words belong.
RAW_WORDS = ["Square hd", "Landscape 16 9", "Digital-art", "3d-render", "local/procedural", "1 credits", "credits)"]


@pytest.fixture
def jobs_wait_for_a_worker():
    """Jobs stay in their queue (no worker) until the test runs each one, as a busy worker would."""
    from config.celery import app

    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = True


def _visible_text(page) -> str:
    return page.locator("body").inner_text()


def _assert_human_words(page):
    text = _visible_text(page)
    for raw in RAW_WORDS:
        assert raw not in text, raw


def _in_viewport(locator) -> bool:
    return locator.evaluate(
        "el => { const r = el.getBoundingClientRect(); return r.top >= 0 && r.top < window.innerHeight - 60; }"
    )


def test_first_ten_minutes(live_server, new_page, screenshot, settings, bob, jobs_wait_for_a_worker):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    base = live_server.url
    page = new_page()

    # A visitor's "/" says what Atelier is and how to join.
    page.goto(f"{base}/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Describe a picture")
    page.get_by_role("link", name="Create a free account").click()
    page.get_by_label("Email").fill("frank@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(f"{base}/")
    messages = page.locator(".messages").inner_text()
    assert "does not send email yet" in messages and "Confirmation email sent" not in messages

    # The studio in human words; unconfigured models folded away.
    model = page.get_by_label("Model", exact=True)
    listed = model.evaluate("s => [...s.options].filter(o => !o.closest('optgroup').hidden).map(o => o.text)")
    assert listed and all("·" in name and "credit" in name for name in listed)
    assert all(not o.startswith(("FLUX", "DALL")) for o in listed)  # hosted providers have no keys here
    page.get_by_label("Also list").check()
    assert model.evaluate("s => [...s.querySelectorAll('optgroup')].every(g => !g.hidden)")
    # Every name fits the closed picker: none is cut off.
    cut = model.evaluate(
        """s => {
          const ctx = document.createElement("canvas").getContext("2d");
          const style = getComputedStyle(s);
          ctx.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
          const room = s.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 20;
          return [...s.options].filter(o => ctx.measureText(o.text).width > room).map(o => o.text);
        }"""
    )
    assert cut == []
    page.get_by_label("Also list").uncheck()
    assert page.locator("#cost").inner_text() == "1 credit"
    size_labels = page.get_by_label("Size", exact=True).evaluate("s => [...s.options].map(o => o.text)")
    assert "Square HD · 1024×1024" in size_labels
    assert any(label.startswith("Landscape 16:9 · ") for label in size_labels)
    style_labels = page.get_by_label("Style").evaluate("s => [...s.options].map(o => o.text)")
    assert "Digital art" in style_labels and "3D render" in style_labels
    _assert_human_words(page)

    # An error is shown beside its field.
    page.get_by_role("button", name="Generate").click()
    prompt_field = page.locator(".field", has=page.locator("#id_prompt"))
    assert "Describe the image you want." in prompt_field.locator(".errorlist").inner_text()
    assert page.locator("#id_prompt").get_attribute("aria-invalid") == "true"

    # The server's refusals go beside their fields too.
    page.get_by_label("Prompt", exact=True).fill("a lighthouse")
    page.get_by_label("Size", exact=True).select_option("custom")
    page.get_by_label("Width (px)").fill("99999")
    page.get_by_role("button", name="Generate").click()
    width_field = page.locator(".field", has=page.locator("#id_width"))
    assert "less than or equal to" in width_field.locator(".errorlist").inner_text()
    assert page.locator("#form-error").inner_text() == "Check the highlighted field."
    assert page.locator("article.job").count() == 0

    # Enhance prompt rewrites it through the API (offline composer here).
    page.get_by_label("Prompt", exact=True).fill("a lighthouse")
    page.get_by_role("button", name="Enhance prompt").click()
    page.wait_for_function("() => document.querySelector('#id_prompt').value.length > 'a lighthouse'.length")
    assert "lighthouse" in page.get_by_label("Prompt", exact=True).input_value()
    assert page.locator("#id_prompt").get_attribute("aria-invalid") is None

    # Someone else's job is ahead in the queue; ours waits behind it, in view, then runs.
    ahead = generate(bob, prompt="ahead of you").json()["generation"]["id"]
    page.get_by_label("Size", exact=True).select_option("landscape_16_9")
    page.get_by_label("Images").select_option("2")
    page.get_by_role("spinbutton", name="Seed").fill("99")
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.get_by_role("button", name="Generate").click()
    job = page.locator("article.job").first
    job.locator("[data-role=queue]").get_by_text("1 job ahead of yours").wait_for()
    assert job.locator("[data-role=status]").inner_text() == "In queue"
    assert _in_viewport(job), "the new job must be where the user is looking"
    screenshot(page, "studio-queue")

    run_generation(ahead)
    job.locator("[data-role=queue]").get_by_text("Next up").wait_for()
    mine = Generation.objects.get(user__email="frank@example.com")
    run_generation(str(mine.pk))
    job.locator(".results img").nth(1).wait_for()
    assert job.locator("[data-role=status]").inner_text() == "Done"
    assert job.locator("[data-role=queue]").inner_text() == ""
    history = [int(v) for v in job.locator("[data-role=progress]").get_attribute("data-history").split(",")]
    assert history == sorted(history) and history[-1] == 100 and any(0 < v < 100 for v in history)
    assert _in_viewport(job)
    # Result cards in their true shape (16:9), not squares.
    box = job.locator(".results .tile-media, .results .tile > a").first.bounding_box()
    assert abs(box["width"] / box["height"] - 16 / 9) < 0.03, box
    page.wait_for_function("() => [...document.querySelectorAll('.results img')].every(i => i.naturalWidth > 0)")

    # The library: tick one tile by its own checkbox, file it in a new collection.
    page.get_by_role("link", name="Library", exact=True).click()
    tiles = page.locator(".asset-grid .tile")
    assert tiles.count() == 2
    page.wait_for_function("() => [...document.querySelectorAll('.tile img')].every(i => i.complete && i.naturalWidth)")
    media = tiles.first.locator(".tile-media").bounding_box()
    assert abs(media["width"] / media["height"] - 16 / 9) < 0.03, media
    tiles.first.locator("input[name=ids]").click()  # a real click: nothing may cover the box
    assert page.locator("#selected-count").inner_text() == "1 selected"
    assert tiles.nth(1).locator("input[name=ids]").is_checked() is False
    _assert_human_words(page)
    screenshot(page, "library")
    page.get_by_label("Name of the new collection").fill("Lighthouses")
    page.get_by_role("button", name="Add to collection").click()
    page.wait_for_url(re.compile(r".*/library\?collection=[0-9a-f-]{36}$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Lighthouses"
    assert page.locator(".asset-grid .tile").count() == 1
    assert "Lighthouses (1)" in page.get_by_label("Collection", exact=True).inner_text()

    # Its page: human words, a download in its true size, a share link made and revoked.
    page.locator(".asset-grid .tile-media").first.click()
    page.wait_for_url(re.compile(r".*/asset/[0-9a-f-]{36}$"))
    page.wait_for_function("() => document.querySelector('.asset-media img').naturalWidth > 0")
    params = page.locator("dl.params").inner_text()
    assert "Local procedural renderer" in params and "2 credits for 2 images" in params and "Lighthouses" in params
    _assert_human_words(page)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="PNG").click()
    with open(download_info.value.path(), "rb") as downloaded:
        image = Image.open(io.BytesIO(downloaded.read()))
        image.load()
    assert image.format == "PNG" and image.size == (mine.width, mine.height)
    page.get_by_role("button", name="Make public").click()
    share_url = page.locator("#share-url").input_value()
    page.get_by_role("button", name="Make private").click()
    page.locator("#share-url").wait_for(state="detached")

    stranger = new_page()
    for url in (share_url, f"{base}/s/not-a-real-key"):
        response = stranger.goto(url)
        assert response.status == 404
        assert stranger.get_by_role("heading", level=1).inner_text() == "This page does not exist"
        assert "Django REST framework" not in stranger.content()
        assert stranger.get_by_role("link", name="Go to Atelier").is_visible()
    screenshot(stranger, "not-found")
    icon = stranger.context.request.get(f"{base}/favicon.ico")
    assert icon.ok and icon.body()[:4] == b"\x00\x00\x01\x00"

    assert page.errors == [] and stranger.errors == []
