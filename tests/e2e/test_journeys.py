"""Journeys: the product as `make run` starts it (web, worker and beat from the Procfile, on the
embedded defaults and the default plans and limits), driven in Chromium as people use it.

A user's hour: signs up, generates twenty images with two models (watching the first one paint
in its job card), trains a LoRA and uses it, browses the library, opens an image (its content
credentials verified), downloads and shares it, recalls all its settings into the studio, then
makes an API key and generates with the `openai` SDK and the `webuiapi` client, each image in the
library saying which API it came by. An operator's first day: signs in to the admin as `make
run` says to create one, reads the dashboard, sends a webhook test event to a receiver, cancels a
queued job and refunds another from their admin pages, adjusts credits, and fills the wallet of
a team the demo user made; meanwhile that user cancels all their queued jobs from the studio,
then works as the team from the header bar's space menu, paid from its wallet.

Each journey fails on what its person would notice or should never meet: an answer of 500 or
more, a 429 they did not cause by exceeding a documented limit, an image that does not load, a
script error, and a traceback in any process's log.
"""

import base64
import io
import json
import re
import time
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest
import webuiapi
from openai import OpenAI
from PIL import Image

from tests.e2e.processes import running_product
from tests.training.factories import png, style_images
from tests.webhooks.receiver import Receiver

pytestmark = [pytest.mark.e2e, pytest.mark.journey]

PASSWORD = "a long enough passphrase 42"
OPERATOR_EMAIL = "ops@example.com"
OPERATOR_PASSWORD = "an operator's own passphrase 7"
WEBHOOK_SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
JOB_TIMEOUT_MS = 90_000  # how long a person waits for one job to end
# Notes, in the page, each in-progress picture a job card decoded and how many results the card
# had then (none: the picture came before the result).
PREVIEWS_SEEN = """
window.previewsSeen = [];
document.addEventListener("load", (event) => {
  const image = event.target;
  if (!(image instanceof HTMLImageElement) || image.dataset.role !== "preview-image") return;
  const results = image.closest("article.job").querySelectorAll(".results img").length;
  window.previewsSeen.push({ width: image.naturalWidth, results });
}, true);
"""


@pytest.fixture(scope="module")
def receiver():
    hooks = Receiver()
    yield hooks
    hooks.stop()


@pytest.fixture(scope="module")
def product(receiver):
    # The operator's webhook receiver listens on loopback, which the URL guard refuses unless
    # its host is allow-listed; that is the one setting the journeys add to the defaults.
    with running_product(env={"ATELIER_URL_FETCH_ALLOWED_HOSTS": f"127.0.0.1:{receiver.port}"}) as running:
        yield running


class Watch:
    """Every answer a person's browser (or script) got, and what the product's processes logged
    while the journey ran."""

    def __init__(self, product):
        self.product = product
        self.log_start = product.log_size()
        self.answers: list[tuple[int, str, str]] = []

    def browser(self, page):
        page.context.on(
            "response", lambda response: self.record(response.status, response.request.method, response.url)
        )
        return page

    def record(self, status: int, method: str, url: str) -> None:
        self.answers.append((status, method, url))

    def assert_clean(self, *pages) -> None:
        failures = [answer for answer in self.answers if answer[0] >= 500]
        assert failures == [], f"answers of 500 or more: {failures}"
        throttled = [answer for answer in self.answers if answer[0] == 429]
        assert throttled == [], f"429s this person did not cause by exceeding a documented limit: {throttled}"
        for page in pages:
            assert page.errors == [], f"script errors on {page.url}: {page.errors}"
        tracebacks = self.product.tracebacks(since=self.log_start)
        assert tracebacks == [], "a traceback in the processes' log:\n" + "\n-----\n".join(tracebacks[:3])


def _all_images_load(page) -> int:
    """Scrolls every image into view (lazy ones load then), loads the next pages of an endless
    list, and asserts that each image with a source decoded; returns how many there were."""
    for _ in range(20):
        sentinel = page.locator(".scroll-sentinel")
        if not sentinel.count():
            break
        sentinel.first.scroll_into_view_if_needed()
        sentinel.first.wait_for(state="detached")
    broken = page.evaluate(
        """async () => {
          const broken = [];
          for (const image of [...document.images]) {
            if (!image.getAttribute("src")) continue;
            image.scrollIntoView({block: "center"});
            if (!image.complete) {
              await new Promise((done) => {
                image.addEventListener("load", done, {once: true});
                image.addEventListener("error", done, {once: true});
                setTimeout(done, 20000);
              });
            }
            if (!(image.naturalWidth > 0)) broken.push(image.currentSrc || image.src);
          }
          window.scrollTo(0, 0);
          return broken;
        }"""
    )
    assert broken == [], f"images that did not load on {page.url}: {broken}"
    return page.locator("img[src]").count()


def _balance(page) -> int:
    return int(page.locator("#credits-balance").inner_text())


def _generate(
    page, *, prompt: str, model: str, images: int, reference: Path | None = None, lora: str = "", cost: str = ""
):
    """One submission in the studio, watched to its end; returns the job's card. ``lora``: a LoRA
    id chosen in the picker; ``cost``: the price the page must show before Generate."""
    page.get_by_label("Prompt", exact=True).fill(prompt)
    page.get_by_label("Model", exact=True).select_option(model)
    if reference is not None:
        page.get_by_label("Reference image").set_input_files(str(reference))
    page.get_by_label("Images", exact=True).select_option(str(images))
    if lora:
        picker = page.get_by_label("LoRA", exact=True)
        picker.locator(f'option[value="{lora}"]').wait_for(state="attached")
        picker.select_option(lora)
    if cost:
        assert page.locator("#cost").inner_text() == cost
    jobs = page.locator("article.job")
    before = jobs.count()
    page.get_by_role("button", name="Generate").click()
    page.wait_for_function(f"() => document.querySelectorAll('article.job').length > {before}")
    job = jobs.first
    status = job.locator("[data-role=status]")
    page.wait_for_function(
        "status => ['Done', 'Failed', 'Cancelled'].includes(status.innerText)",
        arg=status.element_handle(),
        timeout=JOB_TIMEOUT_MS,
    )
    assert status.inner_text() == "Done", job.inner_text()
    job.locator(".results img").nth(images - 1).wait_for()
    return job


def _sign_up(page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/signup/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(f"{base}/")


def test_a_users_hour(product, new_page, tmp_path, screenshot):
    base = product.base_url
    watch = Watch(product)
    page = watch.browser(new_page())

    # Signs up on the allauth page and lands in the studio with the starting credits.
    page.add_init_script(PREVIEWS_SEEN)
    _sign_up(page, base, "hana@example.com")
    start = _balance(page)
    assert start > 30
    assert page.get_by_label("Show the picture as it is made").is_checked()

    # Twelve images from the procedural renderer, four submissions one after another.
    for prompt, count in [
        ("a lighthouse on a cliff at sunset", 4),
        ("a harbour at dawn, fishing boats", 4),
        ("a mountain lake under stars", 2),
        ("an orchard in autumn light", 2),
    ]:
        job = _generate(page, prompt=prompt, model="local/procedural", images=count)
        assert "Rendered image" in job.locator("[data-role=log]").inner_text()
        if count == 4:
            # Watching it paint, on the default settings: the card showed the picture so far
            # (decoded, small) before any result, then the results took its place.
            assert job.get_attribute("data-previews"), "the job card showed no picture before its result"
            seen = page.evaluate("window.previewsSeen.splice(0)")
            assert seen and all(0 < shot["width"] <= 256 and shot["results"] == 0 for shot in seen), seen
            assert job.locator("[data-role=preview]").is_hidden()
    _all_images_load(page)

    # Four more from a photo of their own, with the image-to-image model.
    photo = tmp_path / "photo.png"
    Image.new("RGB", (640, 480), (40, 110, 170)).save(photo)
    for prompt in ("the same scene in warm colours", "the same scene at night"):
        _generate(page, prompt=prompt, model="local/image-to-image", images=2, reference=photo)
    _all_images_load(page)
    page.reload()
    assert _balance(page) == start - 16

    # Trains a LoRA with the local trainer on the Training page.
    page.get_by_role("link", name="Training", exact=True).click()
    page.wait_for_url(f"{base}/training")
    files = [
        {"name": f"ink_{i}.png", "mimeType": "image/png", "buffer": png(image)}
        for i, image in enumerate(style_images(4))
    ]
    page.get_by_label("Images").set_input_files(files)
    page.locator("#upload-status").get_by_text("4 images ready").wait_for()
    page.locator("#price").get_by_text("Costs").wait_for()  # priced at the default steps first
    page.get_by_label("Trigger word").fill("inkwash")
    page.get_by_label("Steps").fill("40")
    with page.expect_response(
        lambda answer: (
            answer.url.endswith("/api/training/start") and json.loads(answer.request.post_data)["steps"] == 40
        )
    ) as quote:
        page.get_by_role("button", name="Get price").click()
    quoted = quote.value.json()["cost"]
    page.locator("#price").get_by_text(f"Costs {quoted} credit").wait_for()
    page.get_by_role("button", name="Start training").click()
    page.wait_for_url("**/training?job=*")
    # The page follows the job and reloads itself when it ends, with the LoRA listed.
    lora = page.locator("#loras [data-lora]").first
    lora.wait_for(timeout=JOB_TIMEOUT_MS)
    assert page.locator("#job-status").inner_text() == "completed"
    page.locator("#samples img").first.wait_for()
    assert lora.locator(".lora-name").inner_text() == "inkwash (local)"
    lora_id = lora.get_attribute("data-lora")
    _all_images_load(page)
    after_training = _balance(page)
    assert after_training == start - 16 - quoted  # the price it was quoted

    # Uses it from the studio's LoRA picker: four images with the LoRA, priced with its extra.
    page.get_by_role("link", name="Studio", exact=True).click()
    page.wait_for_url(f"{base}/")
    for prompt in ("a quiet street after rain", "a garden with a stone bridge"):
        job = _generate(page, prompt=prompt, model="local/procedural", images=2, lora=lora_id, cost="4 credits")
        assert "inkwash" in job.locator("[data-role=prompt]").inner_text()
    _all_images_load(page)
    page.reload()
    assert _balance(page) == after_training - 8

    # The library holds all twenty, and every image on every page of it loads.
    page.get_by_role("link", name="Library", exact=True).click()
    page.wait_for_url(f"{base}/library")
    _all_images_load(page)
    assert page.locator(".asset-grid .tile").count() == 20
    page.locator("#f-model").select_option("local/image-to-image")
    page.wait_for_function("() => document.querySelectorAll('.asset-grid .tile').length === 4")
    _all_images_load(page)
    page.goto(f"{base}/library")

    # Opens the newest asset (made with the LoRA), then the oldest, and downloads it.
    page.locator(".asset-grid .tile-media").first.click()
    page.wait_for_url(re.compile(r".*/asset/[0-9a-f-]{36}$"))
    _all_images_load(page)
    assert "inkwash" in page.locator(".prompt-text").inner_text()
    page.go_back()
    page.locator("#f-sort").select_option("oldest")
    page.wait_for_function("() => location.search.includes('sort=oldest')")
    _all_images_load(page)
    page.locator(".asset-grid .tile-media").first.click()
    page.wait_for_url(re.compile(r".*/asset/[0-9a-f-]{36}$"))
    _all_images_load(page)
    assert "a lighthouse on a cliff at sunset" in page.locator(".prompt-text").inner_text()
    params = page.locator("dl.params").first  # the image's parameters (its credentials have theirs)
    assert "Local procedural renderer" in params.inner_text()
    assert "Asked through\nAtelier API" in params.inner_text()
    # Its content credentials: signed by the processes' signer (as `make run` sets it up), verified.
    credentials = page.locator("[data-role=content-credentials]")
    assert credentials.get_attribute("data-state") == "valid", credentials.inner_text()
    assert "Verified" in credentials.inner_text() and "local/procedural" in credentials.inner_text()
    screenshot(page, "journey-asset-credentials", full_page=True)
    asset_url = page.url
    with page.expect_download() as download_info:
        page.get_by_role("link", name="PNG").click()
    with open(download_info.value.path(), "rb") as downloaded:
        image = Image.open(io.BytesIO(downloaded.read()))
        image.load()
    assert image.format == "PNG" and image.size == (1024, 1024)

    # Shares it; someone without an account opens the link and sees the picture.
    page.get_by_role("button", name="Make public").click()
    share_url = page.locator("#share-url").input_value()
    stranger = watch.browser(new_page())
    stranger.goto(share_url)
    stranger.wait_for_function("() => document.querySelector('figure.share img').naturalWidth > 0")
    assert "a lighthouse on a cliff at sunset" in stranger.locator("figcaption").inner_text()
    _all_images_load(stranger)
    stranger.goto(f"{base}/")
    _all_images_load(stranger)

    # "Use all settings" opens the studio filled with the image's settings.
    page.goto(asset_url)
    page.get_by_role("link", name="Use all settings").click()
    page.wait_for_url("**/?from_asset=*")
    form = page.locator("#studio-form")
    assert form.locator("[name=prompt]").input_value() == "a lighthouse on a cliff at sunset"
    assert form.locator("[name=model]").input_value() == "local/procedural"
    assert form.locator("[name=seed]").input_value().isdigit()
    assert page.locator("#remix-source").is_visible()

    # The account page: makes an API key for their scripts.
    page.get_by_role("link", name="Account", exact=True).click()
    _all_images_load(page)
    page.get_by_label("Key name").fill("my scripts")
    page.get_by_role("button", name="Create key").click()
    key = page.locator("#new-secret").input_value()
    assert key.startswith("atl_")

    # Their tools speak OpenAI's Images API and AUTOMATIC1111's: one image through each.
    http = httpx.Client(
        timeout=60,
        event_hooks={"response": [lambda r: watch.record(r.status_code, r.request.method, str(r.url))]},
    )
    openai = OpenAI(base_url=f"{base}/v1", api_key=key, http_client=http, max_retries=0)
    made = openai.images.generate(
        model="local/procedural", prompt="a paper lantern festival", size="512x512", response_format="b64_json"
    )
    assert Image.open(io.BytesIO(base64.b64decode(made.data[0].b64_json))).size == (512, 512)
    a1111 = webuiapi.WebUIApi(host="127.0.0.1", port=urlparse(base).port)
    a1111.set_auth("hana", key)
    painted = a1111.txt2img(prompt="a windmill in a tulip field", width=512, height=384, steps=8)
    assert painted.image.size == (512, 384)
    http.close()

    # Both are in the library, each saying which API it came by, and each was paid as usual.
    page.get_by_role("link", name="Library", exact=True).click()
    page.wait_for_url(f"{base}/library")
    _all_images_load(page)
    assert page.locator(".asset-grid .tile").count() == 22
    assert _balance(page) == after_training - 8 - 2
    for index, prompt, api in [
        (0, "a windmill in a tulip field", "AUTOMATIC1111 API"),
        (1, "a paper lantern festival", "OpenAI Images API"),
    ]:
        page.locator(".asset-grid .tile-media").nth(index).click()
        page.wait_for_url(re.compile(r".*/asset/[0-9a-f-]{36}$"))
        _all_images_load(page)
        assert prompt in page.locator(".prompt-text").inner_text()
        assert f"Asked through\n{api}" in page.locator("dl.params").first.inner_text()
        page.go_back()
        page.wait_for_url(f"{base}/library")

    # The studio with its recent strip, once more.
    page.get_by_role("link", name="Studio", exact=True).click()
    _all_images_load(page)

    watch.assert_clean(page, stranger)


def _demo_key(product) -> str:
    """The demo account's API key, as `make run` printed it (seed_demo)."""
    keys = re.findall(r"API key:\s+(atl_\S+)", product.log())
    assert keys, "seed_demo printed no API key"
    return keys[0]


def _demo_sign_in(product, page) -> None:
    """The demo user signs in with the password `make run` printed (seed_demo)."""
    passwords = re.findall(r"password:\s+(\S+)", product.log())
    assert passwords, "seed_demo printed no password"
    page.goto(f"{product.base_url}/accounts/login/")
    page.get_by_label("Email").fill("demo@atelier.local")
    page.get_by_label("Password").fill(passwords[0])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{product.base_url}/")


def _submit(page, prompt: str) -> None:
    """A submission in the studio that is not waited for."""
    page.get_by_label("Prompt", exact=True).fill(prompt)
    page.get_by_label("Model", exact=True).select_option("local/procedural")
    page.get_by_label("Images", exact=True).select_option("1")
    page.get_by_role("button", name="Generate").click()
    page.locator("article.job", has_text=prompt).wait_for()


def test_an_operators_first_day(product, new_page, receiver, screenshot):
    base = product.base_url
    watch = Watch(product)

    # A user's script (the demo account's API key) made a generation earlier in the day.
    api = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {_demo_key(product)}"}, timeout=60)
    api.event_hooks["response"] = [
        lambda response: watch.record(response.status_code, response.request.method, str(response.url))
    ]
    done = api.post(
        "/api/generate", json={"model": "local/procedural", "prompt": "a red kite", "num_images": 2, "sync_mode": True}
    )
    assert done.status_code in (200, 201), done.text
    done_id = done.json()["generation"]["id"]
    assert done.json()["generation"]["status"] == "completed"

    # The operator is created the way `make run` says, and signs in to the admin.
    assert "createsuperuser --email" in product.log()
    product.manage(
        "createsuperuser", "--noinput", "--email", OPERATOR_EMAIL, env={"DJANGO_SUPERUSER_PASSWORD": OPERATOR_PASSWORD}
    )
    page = watch.browser(new_page())
    page.goto(f"{base}/admin/")
    page.get_by_label("Email").fill(OPERATOR_EMAIL)
    page.get_by_label("Password").fill(OPERATOR_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/admin/")

    # The dashboard: totals, the worker online, the charts drawn.
    totals = page.locator(".atelier-totals").inner_text()
    generations = int(re.search(r"(\d+)\s+generations", totals).group(1))
    assert generations >= 1, totals
    assert re.search(r"[1-9]\d*\s+workers? \(running\)", totals), totals
    charts = page.locator("svg.atelier-chart")
    assert charts.count() >= 4
    for i in range(charts.count()):
        box = charts.nth(i).bounding_box()
        assert box and box["width"] > 100 and box["height"] > 20
    _all_images_load(page)

    # Webhooks: adds an endpoint on the loopback receiver and sends it a test event.
    page.get_by_role("link", name="Webhook endpoints").first.click()
    page.get_by_role("link", name=re.compile(r"^Add webhook endpoint")).click()
    page.locator("#id_url").fill(receiver.url("/hooks/atelier"))
    page.locator("#id_description").fill("Operations receiver")
    page.locator("#id_secret").fill(WEBHOOK_SECRET)
    page.get_by_role("button", name="Save", exact=True).click()
    page.locator(".messagelist .success").wait_for()
    received_before = len(receiver.received)
    page.locator("#result_list").get_by_role("link", name=receiver.url("/hooks/atelier")).click()
    page.get_by_role("button", name="Send a test event").click()
    assert "test event" in page.locator(".messagelist").inner_text().lower()
    deadline = time.monotonic() + 10
    while len(receiver.received) == received_before:
        assert time.monotonic() < deadline, "the test event did not arrive within 10 seconds"
        time.sleep(0.1)
    arrived = receiver.received[-1]
    assert arrived.path == "/hooks/atelier"
    assert arrived.verified(WEBHOOK_SECRET)["type"] == "webhook.test"
    assert json.loads(arrived.body)["data"]["message"]

    # The demo user, in their browser, makes a team on their account page (its wallet is empty).
    person = watch.browser(new_page())
    _demo_sign_in(product, person)
    person.get_by_role("link", name="Account", exact=True).click()
    person.get_by_label("New team").fill("Kite club")
    person.get_by_role("button", name="Create team").click()
    person.wait_for_url(re.compile(r".*/teams/[0-9a-f-]{36}$"))
    assert person.locator("#team-balance").inner_text() == "0"

    # Later the same script starts two long trainings, which hold both of the worker's slots,
    # and a generation sent meanwhile waits in the queue.
    files = [("files[]", (f"busy_{i}.png", png(image), "image/png")) for i, image in enumerate(style_images(3))]
    trainings = []
    for _ in range(2):
        dataset = api.post("/api/training/upload", files=files)
        assert dataset.status_code in (200, 201), dataset.text
        training = api.post(
            "/api/training/start",
            json={"images_data_url": dataset.json()["images_data_url"], "trigger_word": "busy", "steps": 4000},
        )
        assert training.status_code in (200, 201), training.text
        trainings.append(training.json()["training_id"])
    deadline = time.monotonic() + 30
    while any(api.get(f"/api/training/status/{job}").json()["status"] == "queued" for job in trainings):
        assert time.monotonic() < deadline, "the worker did not take the trainings"
        time.sleep(0.5)
    balance_before = api.get("/api/credits").json()["credits"]["remaining"]
    queued = api.post("/api/generate", json={"model": "local/procedural", "prompt": "a blue kite", "num_images": 1})
    assert queued.status_code in (200, 201, 202), queued.text
    queued_id = queued.json()["generation"]["id"]
    assert api.get("/api/credits").json()["credits"]["remaining"] == balance_before - 1

    # Cancels the queued job from its admin page: it ends cancelled and its credit comes back.
    page.goto(f"{base}/admin/generation/generation/?q={queued_id}")
    page.get_by_role("link", name=queued_id).click()
    page.wait_for_url(re.compile(rf".*/admin/generation/generation/{queued_id}/change/"))
    status_row = page.locator(".field-status .readonly")
    assert status_row.inner_text().strip().lower() in ("pending", "in queue", "in_queue", "processing"), (
        status_row.inner_text()
    )
    page.locator(".object-tools").get_by_role("link", name="Cancel", exact=True).click()
    page.get_by_role("button", name="Yes, cancel it").click()
    page.locator(".messagelist").wait_for()
    assert "cancel" in page.locator(".messagelist").inner_text().lower()
    page.goto(f"{base}/admin/generation/generation/{queued_id}/change/")
    assert page.locator(".field-status .readonly").inner_text().strip().lower() == "cancelled"
    assert api.get(f"/api/generate/{queued_id}").json()["generation"]["status"] == "cancelled"
    assert api.get("/api/credits").json()["credits"]["remaining"] == balance_before

    # Meanwhile the demo user sends two jobs from the studio, which wait, and cancels them all.
    person.get_by_role("link", name="Studio", exact=True).click()
    for prompt in ("a kite festival on the beach", "a box kite in a storm"):
        _submit(person, prompt)
    person.get_by_role("button", name="Cancel all queued").click()
    person.get_by_text("Cancelled 2 queued jobs; 2 credits back.").wait_for()
    for prompt in ("a kite festival on the beach", "a box kite in a storm"):
        person.locator("article.job", has_text=prompt).locator("[data-status=cancelled]").wait_for()
    assert api.get("/api/credits").json()["credits"]["remaining"] == balance_before

    # Refunds the finished one from its admin page (a goodwill refund of its two credits).
    page.goto(f"{base}/admin/generation/generation/{done_id}/change/")
    _all_images_load(page)
    page.locator(".object-tools").get_by_role("link", name="Refund", exact=True).click()
    page.get_by_role("button", name="Yes, refund it").click()
    page.locator(".messagelist").wait_for()
    assert "refund" in page.locator(".messagelist").inner_text().lower()
    assert api.get("/api/credits").json()["credits"]["remaining"] == balance_before + 2

    # Adjusts the demo account's credits: from its user page to its credit account.
    page.goto(f"{base}/admin/")
    page.get_by_role("link", name="Users", exact=True).first.click()
    page.get_by_role("link", name="demo@atelier.local").click()
    page.locator(".object-tools").get_by_role("link", name="Credits", exact=True).click()
    row = page.locator("#result_list tr", has_text="demo@atelier.local")
    row.locator("input[name=_selected_action]").check()
    page.locator("select[name=action]").select_option(label="Add credits (amount, reason)")
    page.locator("input[name=amount]").fill("25")
    page.locator("input[name=reason]").fill("Welcome gift from the operations team")
    page.get_by_role("button", name="Go").click()
    assert "Adjusted 1 account" in page.locator(".messagelist").inner_text()
    assert api.get("/api/credits").json()["credits"]["remaining"] == balance_before + 2 + 25

    # Fills the Kite club's wallet from the credit accounts.
    page.goto(f"{base}/admin/credits/creditaccount/?q=Kite+club")
    row = page.locator("#result_list tr", has_text="Kite club")
    row.locator("input[name=_selected_action]").check()
    page.locator("select[name=action]").select_option(label="Add credits (amount, reason)")
    page.locator("input[name=amount]").fill("10")
    page.locator("input[name=reason]").fill("The kite club's first month")
    page.get_by_role("button", name="Go").click()
    assert "Adjusted 1 account" in page.locator(".messagelist").inner_text()

    # The script stops its trainings, which frees the worker.
    for job in trainings:
        assert api.delete(f"/api/training/{job}").status_code == 200
    personal = api.get("/api/credits").json()["credits"]["remaining"]

    # The demo user works as the team: chooses it in the header bar, where the balance becomes
    # the team's, generates, finds the images in the team's library, and sees the wallet charged.
    person.get_by_label("Working in").select_option(label="Kite club")
    person.get_by_role("button", name="Switch").click()
    person.get_by_text("Working in Kite club.").wait_for()
    assert _balance(person) == 10
    _generate(person, prompt="the kite club's red kite over the dunes", model="local/procedural", images=2)
    person.reload()
    assert _balance(person) == 8
    assert person.locator(".recent-strip img").count() == 2  # the team's, thumbnails made or not
    _all_images_load(person)
    person.get_by_role("link", name="Library", exact=True).click()
    person.wait_for_url(f"{base}/library")
    _all_images_load(person)
    tiles = person.locator(".asset-grid .tile")
    assert tiles.count() == 2
    person.locator(".asset-grid .tile-media").first.click()
    person.wait_for_url(re.compile(r".*/asset/[0-9a-f-]{36}$"))
    assert "the kite club's red kite" in person.locator(".prompt-text").inner_text()
    person.locator(".credits-pill").click()
    person.wait_for_url(re.compile(r".*/teams/[0-9a-f-]{36}#wallet$"))
    assert person.locator("#team-balance").inner_text() == "8"
    screenshot(person, "journey-team-wallet", full_page=True)
    usage = person.locator("#member-usage tr[data-member='demo@atelier.local'] td")
    assert usage.nth(1).inner_text() == "2" and usage.nth(3).inner_text() == "1"
    # Their personal wallet paid nothing of it.
    assert api.get("/api/credits").json()["credits"]["remaining"] == personal

    api.close()
    watch.assert_clean(page, person)
