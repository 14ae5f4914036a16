"""One price per model: the models API, the admin list, the studio and ``dry_run`` all show what
a generation is actually charged, extras for video, upscale and LoRAs included."""

import json
import re

import pytest

from tests.helpers import credits_remaining, signed_in
from tests.inputs.conftest import picture, png, upload

pytestmark = pytest.mark.django_db

# Base price 1 each; image-to-video and upscale carry the kind extras (2 and 1 by default).
PRICED = {"local/procedural": 1, "local/image-to-video": 3, "local/upscale": 2}


def _post(client, **fields):
    return client.post("/api/generate", {"sync_mode": "false", **fields}, format="multipart")


@pytest.mark.parametrize(("model", "price"), PRICED.items())
def test_models_api_quotes_what_a_generation_is_charged(alice, model, price):
    listed = {row["id"]: row for row in alice.get("/api/models").json()["models"]}
    assert listed[model]["credit_cost"] == price
    assert alice.get(f"/api/models/{model}").json()["model"]["credit_cost"] == price

    fields = {"model": model, "prompt": "a harbour at dawn", "num_images": 1}
    if model != "local/procedural":
        fields["image"] = upload(png(picture(64, 48)))
    quote = _post(alice, dry_run="true", **fields)
    assert quote.status_code == 200, quote.content
    assert quote.json()["cost"] == price

    fields["image"] = upload(png(picture(64, 48))) if "image" in fields else None
    before = credits_remaining(alice)
    charged = _post(alice, **{k: v for k, v in fields.items() if v is not None})
    assert charged.status_code == 201, charged.content
    assert charged.json()["credits_used"] == price
    assert credits_remaining(alice) == before - price


def test_models_api_names_the_lora_extra_of_models_that_take_loras(alice, settings):
    settings.ATELIER_CREDIT_LORA_EXTRA = 2
    listed = {row["id"]: row for row in alice.get("/api/models").json()["models"]}
    loras = [row for row in listed.values() if "loras" in row["supports"]]
    assert loras and all(row["lora_extra_cost"] == 2 for row in loras)
    assert listed["local/procedural"]["lora_extra_cost"] is None


def test_admin_model_list_shows_the_charged_price(staff):
    html = signed_in(staff.user).get("/admin/catalog/aimodel/?q=local").content.decode()
    assert "Charged per image" in html
    # The row of local/image-to-video: base price 1 (editable), charged 3.
    rows = {
        match.group(1): match.group(2)
        for match in re.finditer(r'>(local/[\w-]+)</a></th>.*?<td class="field-price">(\d+)</td>', html, re.S)
    }
    assert rows["local/image-to-video"] == "3"
    assert rows["local/upscale"] == "2"
    assert rows["local/procedural"] == "1"


def test_studio_quotes_the_charged_price(alice, settings):
    settings.ATELIER_CREDIT_LORA_EXTRA = 2
    html = signed_in(alice.user).get("/").content.decode()
    start = html.index('<script id="model-specs" type="application/json">') + len(
        '<script id="model-specs" type="application/json">'
    )
    specs = json.loads(html[start : html.index("</script>", start)])
    for model, price in PRICED.items():
        assert specs[model]["cost"] == price
    # The page adds this per image when LoRA weights are given to a model that takes them.
    loras = [spec for spec in specs.values() if "loras" in spec["supports"]]
    assert loras and all(spec["lora_extra"] == 2 for spec in loras)


def test_insufficient_credits_names_the_price_in_plain_words(alice):
    from credits.services import credits_admin_adjust

    credits_admin_adjust(user=alice.user, action="set", amount=0, reason="test", actor=None)
    response = alice.post("/api/generate", {"model": "local/procedural", "prompt": "a kite"}, format="json")
    assert response.status_code == 402
    # The price first, then when the refill comes and how to get more (tests/credits/test_limits.py).
    assert response.json()["details"].startswith("You need 1 credit but have only 0 left. ")
