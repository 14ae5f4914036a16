"""Recall in Chromium: an image file dropped on the studio fills the form with the settings inside
it (a file Atelier made, or one with the common ``parameters`` text), and "Use all settings" on
an asset page opens the studio filled, generating the same picture again as its remix."""

import base64
import io
from urllib.parse import urlparse

import pytest
from django.test import Client as BrowserClient
from PIL import Image, PngImagePlugin

from generation.models import Generation
from tests.gallery.conftest import body_of
from tests.helpers import LOCAL_MODEL, generate_done

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DROP = """async ([data, name, type]) => {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, { type }));
  const target = document.querySelector("#id_prompt");
  for (const kind of ["dragenter", "dragover", "drop"]) {
    target.dispatchEvent(new DragEvent(kind, { bubbles: true, cancelable: true, dataTransfer: transfer }));
  }
}"""


def _signed_in(page, base: str, user) -> None:
    browser_client = BrowserClient()
    browser_client.force_login(user)
    cookie = browser_client.cookies["sessionid"]
    page.context.add_cookies(
        [{"name": "sessionid", "value": cookie.value, "domain": urlparse(base).hostname, "path": "/"}]
    )


def _drop(page, data: bytes, name: str, mime: str = "image/png") -> str:
    """Drops the file on the studio's prompt and returns what the page says it did."""
    page.evaluate(DROP, [base64.b64encode(data).decode(), name, mime])
    status = page.locator("#recall-status")
    page.wait_for_function("() => /^(Filled|.* carries no)/.test(document.querySelector('#recall-status').textContent)")
    return status.inner_text()


def _field(page, name: str) -> str:
    return page.locator(f"#studio-form [name={name}]").input_value()


def test_dropping_a_file_made_by_atelier_fills_the_studio(live_server, new_page, screenshot, alice):
    base = live_server.url
    made = generate_done(
        alice,
        model=LOCAL_MODEL,
        prompt="a paper boat on a rainy street",
        negative_prompt="people",
        art_style="classic",
        seed=31337,
        width=320,
        height=256,
        num_inference_steps=18,
        guidance_scale=5.5,
        format="png",
    )
    data = body_of(alice.get(f"/api/gallery/{made['images'][0]['id']}/download"))
    page = new_page()
    _signed_in(page, base, alice.user)
    page.goto(f"{base}/")
    assert _field(page, "prompt") == ""

    said = _drop(page, data, "paper-boat.png")

    assert said.startswith("Filled from paper-boat.png, made by Atelier")
    assert "its style (classic) is written out in the prompt" in said
    # What was sent, the style's words in it, and no style chosen to add them a second time.
    assert _field(page, "prompt") == made["final_prompt"]
    assert made["final_prompt"].startswith("a paper boat on a rainy street, classical oil painting")
    assert _field(page, "negative_prompt") == made["negative_prompt"]
    assert made["negative_prompt"].startswith("people, ")
    assert _field(page, "art_style") == ""
    assert _field(page, "model") == LOCAL_MODEL
    assert _field(page, "seed") == "31337"
    assert (_field(page, "image_size"), _field(page, "width"), _field(page, "height")) == ("custom", "320", "256")
    assert (_field(page, "num_inference_steps"), _field(page, "guidance_scale")) == ("18", "5.5")
    screenshot(page, "studio-recall")

    # The filled form makes the very same picture.
    page.get_by_role("button", name="Generate").click()
    job = page.locator("article.job").first
    job.locator(".results img").first.wait_for()
    again = Generation.objects.exclude(pk=made["id"]).get(user=alice.user)
    first = Image.open(io.BytesIO(data))
    second = Image.open(again.assets.get().file)
    assert (second.size, second.convert("RGB").tobytes()) == (first.size, first.convert("RGB").tobytes())
    assert page.errors == []


def test_dropping_a_file_with_another_tools_parameters_fills_what_it_can(live_server, new_page, alice):
    info = PngImagePlugin.PngInfo()
    info.add_text(
        "parameters",
        "a castle in the clouds, golden hour\nNegative prompt: watermark\n"
        "Steps: 30, Sampler: Euler a, CFG scale: 7.5, Seed: 1234, Size: 512x768, Model: sd_xl_base_1.0",
    )
    out = io.BytesIO()
    Image.new("RGB", (64, 96), (40, 90, 160)).save(out, "PNG", pnginfo=info)
    page = new_page()
    _signed_in(page, live_server.url, alice.user)
    page.goto(f"{live_server.url}/")

    said = _drop(page, out.getvalue(), "castle.png")

    assert "Note: its model (sd_xl_base_1.0) is not available here" in said
    assert _field(page, "prompt") == "a castle in the clouds, golden hour"
    assert _field(page, "negative_prompt") == "watermark"
    assert (_field(page, "seed"), _field(page, "width"), _field(page, "height")) == ("1234", "512", "768")
    assert (_field(page, "num_inference_steps"), _field(page, "guidance_scale")) == ("30", "7.5")

    plain = io.BytesIO()
    Image.new("RGB", (8, 8)).save(plain, "PNG")
    assert _drop(page, plain.getvalue(), "plain.png") == "plain.png carries no settings to recall."
    assert page.errors == []


def test_use_all_settings_opens_the_studio_filled_and_remixes(live_server, new_page, screenshot, alice):
    from tests.inputs.conftest import picture, png, upload

    answer = alice.post(
        "/api/generate",
        {
            "model": "local/image-to-image",
            "prompt": "a harbour at dawn",
            "image": upload(png(picture(160, 120))),
            "seed": 8,
            "strength": 0.6,
            "sync_mode": "false",
        },
        format="multipart",
    )
    assert answer.status_code == 201, answer.content
    first = alice.get(f"/api/generate/{answer.json()['generation']['id']}").json()["generation"]
    page = new_page()
    _signed_in(page, live_server.url, alice.user)
    page.goto(f"{live_server.url}/asset/{first['images'][0]['id']}")

    page.get_by_role("link", name="Use all settings").click()

    page.wait_for_url("**/?from_asset=*")
    assert _field(page, "model") == "local/image-to-image"
    assert (_field(page, "prompt"), _field(page, "seed"), _field(page, "strength")) == ("a harbour at dawn", "8", "0.6")
    page.wait_for_function("() => document.querySelector('#reference-carried img').naturalWidth > 0")
    assert page.locator("#remix-source").is_visible()
    screenshot(page, "studio-use-all-settings")
    page.get_by_role("button", name="Generate").click()
    page.locator("article.job .results img").first.wait_for()
    remix = Generation.objects.exclude(pk=first["id"]).get(user=alice.user)
    assert str(remix.remix_of_id) == first["id"]
    made = alice.get(f"/api/generate/{remix.pk}").json()["generation"]
    originals = [Image.open(io.BytesIO(body_of(alice.get(g["images"][0]["url"])))) for g in (first, made)]
    assert originals[0].tobytes() == originals[1].tobytes()
    assert page.errors == []
