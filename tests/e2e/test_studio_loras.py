"""A person uses a trained LoRA from the studio in Chromium at 1400×900: picked with its scale,
its trigger word in the prompt, its extra in the price, carried by the generation; opened from
the training page; and the studio's smaller promises (the Generate button in view, the reference
image of "use all settings", errors in words)."""

import io

import pytest
from rest_framework.test import APIClient

from accounts.services import user_create
from credits.services import credits_admin_adjust
from generation.models import Generation, GenerationInput
from tests.training.factories import image_files, png, start, style_images, upload

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long enough passphrase 42"


def _person(email: str):
    user = user_create(email=email, password=PASSWORD)
    api = APIClient()
    api.force_authenticate(user)
    return user, api


def _trained_lora(api) -> dict:
    """A finished local training (tasks run eagerly here) and the LoRA it made."""
    job = start(api, upload(api, image_files(3)), steps=20)
    assert job.status_code == 201, job.content
    status = api.get(f"/api/training/status/{job.json()['training_id']}").json()
    assert status["status"] == "completed", status
    return api.get(f"/api/loras/{status['lora_id']}").json()["lora"]


def _sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")


def _loras_loaded(page, lora_id: str) -> None:
    page.locator(f"#id_lora option[value='{lora_id}']").wait_for(state="attached")


def _fully_in_view(locator) -> bool:
    """Inside the viewport and not covered: what a person sees without scrolling."""
    return locator.evaluate(
        """el => {
          const r = el.getBoundingClientRect();
          const inside = r.top >= 0 && r.left >= 0 && r.bottom <= window.innerHeight && r.right <= window.innerWidth;
          const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
          return inside && (top === el || el.contains(top));
        }"""
    )


def _cut_options(select) -> list[str]:
    """The options whose text would not fit the closed picker."""
    return select.evaluate(
        """s => {
          const ctx = document.createElement("canvas").getContext("2d");
          const style = getComputedStyle(s);
          ctx.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
          const room = s.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 20;
          return [...s.options].filter(o => !o.hidden && ctx.measureText(o.text).width > room).map(o => o.text);
        }"""
    )


def _text_fits(field) -> bool:
    """Whether an input's value is shown whole (its spin buttons beside it)."""
    return field.evaluate(
        """el => {
          const ctx = document.createElement("canvas").getContext("2d");
          const style = getComputedStyle(el);
          ctx.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
          const room = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 16;
          return ctx.measureText(el.value).width <= room;
        }"""
    )


def test_pick_a_lora_and_its_scale_see_the_price_and_generate_with_it(live_server, new_page, screenshot):

    user, api = _person("gina@example.com")
    lora = _trained_lora(api)
    page = new_page()
    _sign_in(page, live_server.url, "gina@example.com")
    _loras_loaded(page, lora["id"])
    assert page.get_by_label("Model", exact=True).input_value() == "local/procedural"
    assert page.locator("#cost").inner_text() == "1 credit"

    prompt = page.get_by_label("Prompt", exact=True)
    prompt.fill("a kite over a green hill")
    page.get_by_label("LoRA", exact=True).select_option(lora["id"])
    assert prompt.input_value() == "filmlook a kite over a green hill"
    assert page.locator("#cost").inner_text() == "2 credits"
    assert page.locator("#cost-detail").inner_text() == "includes 1 credit for the LoRA"
    # The price is what the server quotes for the same request.
    quote = api.post(
        "/api/generate",
        {"prompt": "a kite", "loras": [{"path": lora["id"], "scale": 1}], "dry_run": True},
        format="json",
    )
    assert quote.json()["cost"] == 2, quote.content
    assert "Adds “filmlook” to the prompt" in page.locator("#lora-hint").inner_text()
    # The slider and the number are one setting.
    page.get_by_label("LoRA scale", exact=True).fill("0.6")
    assert page.get_by_label("LoRA scale (slider)").input_value() == "0.6"
    page.get_by_label("Images").select_option("2")
    assert page.locator("#cost").inner_text() == "4 credits"
    page.get_by_label("Images").select_option("1")
    assert _fully_in_view(page.get_by_role("button", name="Generate"))
    screenshot(page, "studio-lora")

    # Choosing no LoRA takes its trigger word out again and the extra off the price.
    page.get_by_label("LoRA", exact=True).select_option("")
    assert prompt.input_value() == "a kite over a green hill"
    assert page.locator("#cost").inner_text() == "1 credit"
    page.get_by_label("LoRA", exact=True).select_option(lora["id"])
    page.get_by_label("LoRA scale", exact=True).fill("0.6")

    balance = int(page.locator("#credits-balance").inner_text())
    page.get_by_role("button", name="Generate").click()
    job = page.locator("article.job").first
    job.locator(".results img").first.wait_for()
    assert job.locator("[data-role=status]").inner_text() == "Done"
    generation = Generation.objects.get(user=user)
    assert generation.params["loras"] == [{"path": lora["id"], "scale": 0.6}]
    assert generation.prompt.startswith("filmlook") and generation.cost == 2
    shown = api.get(f"/api/generate/{generation.pk}").json()["generation"]
    assert shown["params"]["loras"] == [{"path": lora["id"], "scale": 0.6}]
    page.wait_for_function(f"() => document.querySelector('#credits-balance').textContent.trim() === '{balance - 2}'")
    screenshot(page, "studio-lora-result")

    # "Use all settings" brings the LoRA and its scale back, the trigger word once.
    job.locator(".results a").first.click()
    page.get_by_role("link", name="Use all settings").click()
    page.wait_for_function(f"() => document.querySelector('#id_lora').value === '{lora['id']}'")
    assert page.get_by_label("LoRA scale", exact=True).input_value() == "0.6"
    assert prompt.input_value() == "filmlook a kite over a green hill"
    assert page.locator("#cost").inner_text() == "2 credits"
    assert page.errors == []


def test_open_the_studio_from_the_training_page_preselects_the_lora(live_server, new_page, screenshot):
    _, api = _person("hal@example.com")
    lora = _trained_lora(api)
    page = new_page()
    _sign_in(page, live_server.url, "hal@example.com")
    page.goto(f"{live_server.url}/training")
    # The trigger word field looks like the fields beside it.
    trigger, steps = page.get_by_label("Trigger word"), page.get_by_label("Steps")
    style = "el => { const s = getComputedStyle(el); return [s.height, s.borderTopColor, s.borderRadius]; }"
    assert trigger.evaluate(style) == steps.evaluate(style)
    screenshot(page, "training-loras", full_page=True)

    page.locator(f"[data-lora='{lora['id']}']").get_by_role("link", name="Open the studio").click()
    page.wait_for_url(f"**/?lora={lora['id']}*")
    _loras_loaded(page, lora["id"])
    page.wait_for_function(f"() => document.querySelector('#id_lora').value === '{lora['id']}'")
    assert page.get_by_label("Model", exact=True).input_value() == "local/procedural"
    assert page.get_by_label("Prompt", exact=True).input_value().startswith("filmlook")
    assert page.locator("#cost").inner_text() == "2 credits"

    # A model that cannot apply the LoRA gives way to one that can.
    page.goto(f"{live_server.url}/studio?lora={lora['id']}&model=local/image-to-video")
    page.wait_for_function(f"() => document.querySelector('#id_lora').value === '{lora['id']}'")
    assert page.get_by_label("Model", exact=True).input_value() == "local/procedural"
    assert page.errors == []


@pytest.mark.parametrize("model", ["local/procedural", "local/image-to-image", "local/inpainting"])
def test_the_generate_button_is_in_view_at_1400_by_900(live_server, new_page, screenshot, model):
    _, api = _person("ivy@example.com")
    lora = _trained_lora(api)
    page = new_page()
    _sign_in(page, live_server.url, "ivy@example.com")
    page.goto(f"{live_server.url}/?model={model}&lora={lora['id']}")
    _loras_loaded(page, lora["id"])
    page.locator("#advanced").evaluate("el => { el.open = true; }")
    assert page.viewport_size == {"width": 1400, "height": 900}
    assert _fully_in_view(page.get_by_role("button", name="Generate"))
    assert _fully_in_view(page.locator("#cost"))
    # Compact is not cramped: every choice fits its closed picker, and the largest seed its box.
    for picker in ("Size", "LoRA", "Style", "File format"):
        assert _cut_options(page.get_by_label(picker, exact=True)) == [], picker
    seed = page.get_by_role("spinbutton", name="Seed")
    seed.fill("4294967295")
    assert _text_fits(seed)
    screenshot(page, f"studio-fold-{model.split('/')[1]}")
    assert page.errors == []


def test_use_these_settings_again_carries_the_reference_image(live_server, new_page, screenshot, tmp_path):
    from tests.inputs.conftest import picture

    user, api = _person("jo@example.com")
    source = io.BytesIO(png(picture(160, 120)))
    source.name = "photo.png"
    answer = api.post(
        "/api/generate",
        {"model": "local/image-to-image", "prompt": "a harbour at dawn", "image": source, "sync_mode": "false"},
        format="multipart",
    )
    assert answer.status_code == 201, answer.content
    first = api.get(f"/api/generate/{answer.json()['generation']['id']}").json()["generation"]
    assert first["status"] == "completed"

    page = new_page()
    _sign_in(page, live_server.url, "jo@example.com")
    page.goto(f"{live_server.url}/asset/{first['images'][0]['id']}")
    page.get_by_role("link", name="Use all settings").click()
    page.wait_for_url("**/?from_asset=*")
    assert page.get_by_label("Model", exact=True).input_value() == "local/image-to-image"
    assert page.get_by_label("Prompt", exact=True).input_value() == "a harbour at dawn"
    preview = page.get_by_alt_text("The reference image of your earlier generation")
    assert preview.is_visible()
    page.wait_for_function("() => document.querySelector('#reference-carried img').naturalWidth > 0")
    assert "(160×120)" in page.locator("#reference-carried").inner_text()
    screenshot(page, "studio-reference")

    page.get_by_role("button", name="Generate").click()
    job = page.locator("article.job").first
    job.locator(".results img").first.wait_for()
    assert job.locator("[data-role=status]").inner_text() == "Done"
    again = Generation.objects.filter(user=user).exclude(pk=first["id"]).get()
    reused = GenerationInput.objects.get(generation=again, role="image")
    original = GenerationInput.objects.get(generation_id=first["id"], role="image")
    assert reused.sha256 == original.sha256 and (reused.width, reused.height) == (160, 120)
    assert (again.width, again.height) == (160, 120)

    # Removing the carried image asks for one again, in words beside the field.
    page.goto(page.url)
    page.get_by_role("button", name="Remove").click()
    page.get_by_role("button", name="Generate").click()
    field = page.locator(".field", has=page.locator("#id_image"))
    assert "This model starts from a reference image." in field.locator(".errorlist").inner_text()
    assert page.errors == []


def test_insufficient_credits_read_as_words_without_quotes(live_server, new_page, screenshot):
    from playwright.sync_api import expect

    user, _ = _person("kit@example.com")
    credits_admin_adjust(user=user, action="set", amount=0, reason="test", actor=None)
    page = new_page()
    _sign_in(page, live_server.url, "kit@example.com")
    page.get_by_label("Prompt", exact=True).fill("a quiet harbour")
    page.get_by_role("button", name="Generate").click()
    error = page.locator("#form-error .alert-error")
    error.wait_for()
    text = error.inner_text()
    assert text.startswith("Insufficient credits") and "You need 1 credit" in text
    assert '"' not in text and "{" not in text
    screenshot(page, "studio-insufficient-credits")

    # The training page says it the same way.
    page.goto(f"{live_server.url}/training")
    files = [
        {"name": f"film_{i}.png", "mimeType": "image/png", "buffer": png(image)}
        for i, image in enumerate(style_images(3))
    ]
    page.get_by_label("Images").set_input_files(files)
    expect(page.locator("#upload-status")).to_contain_text("3 images ready")
    page.get_by_label("Trigger word").fill("filmlook")
    page.get_by_role("button", name="Start training").click()
    training_error = page.locator("#form-error")
    expect(training_error).to_be_visible()
    text = training_error.inner_text()
    assert text.startswith("Insufficient credits: You need") and '"' not in text, text
    screenshot(page, "training-insufficient-credits", full_page=True)
    assert page.errors == []


def test_a_fal_lora_opens_on_fals_lora_model_and_a_weights_url_is_priced_too(live_server, new_page, settings):
    """With fal configured, a fal-trained LoRA is offered on fal's LoRA models only. Nothing is
    generated here: no request leaves this machine."""
    from training.models import LoRA

    settings.FAL_KEY = "fal-test-key-id:fal-test-key-secret"
    user, _ = _person("lee@example.com")
    lora = LoRA.objects.create(
        user=user,
        name="Brand X",
        trigger_word="brandx",
        provider="fal",
        weights="training/loras/brandx.safetensors",
        provider_reference="https://fal.example/files/brandx/pytorch_lora_weights.safetensors",
    )
    page = new_page()
    _sign_in(page, live_server.url, "lee@example.com")
    page.goto(f"{live_server.url}/training")
    page.locator(f"[data-lora='{lora.pk}']").get_by_role("link", name="Open the studio").click()
    page.wait_for_function(f"() => document.querySelector('#id_lora').value === '{lora.pk}'")
    assert page.get_by_label("Model", exact=True).input_value() == "fal-ai/flux-lora"
    assert page.get_by_label("Prompt", exact=True).input_value() == "brandx "
    assert page.locator("#cost").inner_text() == "4 credits"

    # The local renderer cannot apply it: the picker says so and the price drops the extra.
    page.get_by_label("Model", exact=True).select_option("local/procedural")
    option = page.locator(f"#id_lora option[value='{lora.pk}']")
    assert option.is_disabled() and option.inner_text().endswith("(not for this model)")
    assert page.get_by_label("LoRA", exact=True).input_value() == ""
    assert page.get_by_label("Prompt", exact=True).input_value() == ""
    assert page.locator("#cost").inner_text() == "1 credit"
    assert page.locator("#id_lora option[value=url]").is_hidden()

    # A LoRA by its weights URL, on a model that loads them.
    page.get_by_label("Model", exact=True).select_option("fal-ai/flux-lora")
    page.get_by_label("LoRA", exact=True).select_option("url")
    assert page.locator("#cost").inner_text() == "3 credits"
    page.get_by_label("LoRA weights URL").fill("https://fal.example/files/other/lora.safetensors")
    assert page.locator("#cost").inner_text() == "4 credits"
    assert page.evaluate("() => document.querySelector('#id_lora_path').checkValidity()")
    assert page.errors == []
