"""Journeys: the product as `make run` starts it (web, worker and beat from the Procfile, on the
embedded defaults and the default plans and limits), driven in Chromium as people use it.

A user's hour: signs up, generates twenty images with two models, trains a LoRA and uses it,
browses the library, opens, downloads and shares. An operator's first day: signs in to the
admin as `make run` says to create one, reads the dashboard, sends a webhook test event to a
receiver, cancels a queued job and refunds another from their admin pages, adjusts credits.

Each journey fails on what its person would notice or should never meet: an answer of 500 or
more, a 429 they did not cause by exceeding a documented limit, an image that does not load, a
script error, and a traceback in any process's log.
"""

import io
import json
import re
import time
from pathlib import Path

import httpx
import pytest
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


def test_a_users_hour(product, new_page, tmp_path):
    base = product.base_url
    watch = Watch(product)
    page = watch.browser(new_page())

    # Signs up on the allauth page and lands in the studio with the starting credits.
    _sign_up(page, base, "hana@example.com")
    start = _balance(page)
    assert start > 30

    # Twelve images from the procedural renderer, four submissions one after another.
    for prompt, count in [
        ("a lighthouse on a cliff at sunset", 4),
        ("a harbour at dawn, fishing boats", 4),
        ("a mountain lake under stars", 2),
        ("an orchard in autumn light", 2),
    ]:
        job = _generate(page, prompt=prompt, model="local/procedural", images=count)
        assert "Rendered image" in job.locator("[data-role=log]").inner_text()
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
    assert "Local procedural renderer" in page.locator("dl.params").inner_text()
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

    # The account page, and the studio with its recent strip, once more.
    page.get_by_role("link", name="Account", exact=True).click()
    _all_images_load(page)
    page.get_by_role("link", name="Studio", exact=True).click()
    _all_images_load(page)

    watch.assert_clean(page, stranger)


def _demo_key(product) -> str:
    """The demo account's API key, as `make run` printed it (seed_demo)."""
    keys = re.findall(r"API key:\s+(atl_\S+)", product.log())
    assert keys, "seed_demo printed no API key"
    return keys[0]


def test_an_operators_first_day(product, new_page, receiver):
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

    api.close()
    watch.assert_clean(page)
