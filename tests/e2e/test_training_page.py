"""A person trains a style in the browser: upload with previews, price, start, samples, the LoRA."""

import pytest

from tests.helpers import wait_until
from tests.training.factories import png, style_images

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long enough passphrase 42"


def test_upload_price_start_and_see_samples_and_the_lora(live_server, new_page, screenshot):
    from playwright.sync_api import expect

    from accounts.services import user_create

    user_create(email="dana@example.com", password=PASSWORD)
    base = live_server.url
    page = new_page()
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill("dana@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Training").click()
    page.wait_for_url(f"{base}/training")

    files = [
        {"name": f"film_{i}.png", "mimeType": "image/png", "buffer": png(image)}
        for i, image in enumerate(style_images(4))
    ]
    page.get_by_label("Images").set_input_files(files)
    expect(page.locator("#previews img")).to_have_count(4)
    expect(page.locator("#upload-status")).to_contain_text("4 images ready")
    page.get_by_label("Trigger word").fill("filmlook")
    page.get_by_label("Steps").fill("40")
    page.get_by_role("button", name="Get price").click()
    expect(page.locator("#price")).to_contain_text("Costs")
    page.get_by_role("button", name="Start training").click()
    page.wait_for_url("**/training?job=*")
    page.locator("#samples img").first.wait_for()
    assert page.locator("#job-status").inner_text() == "completed"
    assert page.locator("#loras .lora-name").first.inner_text() == "filmlook (local)"
    assert page.locator("#loss-line").get_attribute("points")
    wait_until(
        lambda: page.locator("#samples img").first.evaluate("image => image.complete && image.naturalWidth > 0"),
        timeout=10,
        interval=0.1,
        message="the sample image did not load",
    )
    screenshot(page, "training", full_page=True)
    assert page.errors == []
