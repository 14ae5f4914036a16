import json
import re

import pytest

from catalog.models import AIModel
from gallery.models import Asset
from generation.models import Generation, Status
from tests.helpers import LOCAL_MODEL, generate_done, signed_in
from tests.inputs.conftest import picture, png, upload
from tests.training.factories import image_files, start
from tests.training.factories import upload as upload_images


def _specs(response) -> dict:
    html = response.content.decode()
    start = html.index('<script id="model-specs" type="application/json">') + len(
        '<script id="model-specs" type="application/json">'
    )
    return json.loads(html[start : html.index("</script>", start)])


def test_visitors_get_the_landing_page_instead_of_the_studio(anon):
    response = anon.get("/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="/accounts/signup/"' in html and "Create a free account" in html
    assert 'id="studio-form"' not in html


def test_studio_lists_models_by_kind_with_cost_and_availability(alice):
    response = signed_in(alice.user).get("/")
    assert response.status_code == 200
    html = response.content.decode()
    # Grouped by kind and provider; groups with a usable model first, the rest folded away.
    groups = re.findall(r'<optgroup label="([^"]+)"( data-unavailable hidden)?', html)
    assert groups[0] == ("Text to image · Local", "")
    assert ("Inpainting · Local", "") in groups
    assert ("Text to image · fal.ai (not configured)", " data-unavailable hidden") in groups
    first_folded = next(i for i, (_, folded) in enumerate(groups) if folded)
    assert all(folded for _, folded in groups[first_folded:])
    specs = _specs(response)
    local = specs[LOCAL_MODEL]
    assert local["available"] is True
    assert local["cost"] == AIModel.objects.get(pk=LOCAL_MODEL).credit_cost
    # A hosted provider without its key is listed, but cannot be chosen.
    assert specs["fal-ai/flux/dev"]["available"] is False
    assert "FAL_KEY" in specs["fal-ai/flux/dev"]["unavailable_reason"]
    assert local["unavailable_reason"] is None
    assert re.search(r'value="fal-ai/flux/dev"\s+disabled', html)
    assert specs["fal-ai/flux-pro/v1/fill"]["takes_mask"] is True
    assert specs["fal-ai/stable-video"]["needs_image"] is True
    assert specs[LOCAL_MODEL]["needs_image"] is False


def test_studio_is_prefilled_from_the_query_string(alice):
    response = signed_in(alice.user).get(
        "/", {"prompt": "a red fox", "model": LOCAL_MODEL, "seed": "42", "width": "512", "height": "768"}
    )
    html = response.content.decode()
    assert ">a red fox</textarea>" in html
    assert 'name="seed" type="number" inputmode="numeric" min="0" max="4294967295" value="42"' in html
    assert 'value="512"' in html and 'value="768"' in html
    assert '<option value="custom" selected>' in html


@pytest.mark.parametrize("path", ["/static/css/atelier.css", "/static/js/studio.js", "/static/vendor/htmx.min.js"])
def test_static_assets_are_served(anon, path):
    response = anon.get(path)
    assert response.status_code == 200


def test_event_stream_answers_a_browsers_event_source(alice):
    """EventSource sends ``Accept: text/event-stream``; the stream must not be refused with a 406."""
    generation = generate_done(alice, num_images=2)
    response = signed_in(alice.user).get(f"/api/generate/{generation['id']}/events", HTTP_ACCEPT="text/event-stream")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/event-stream")
    body = b"".join(response.streaming_content).decode()
    assert "event: progress" in body and '"progress":50' in body
    assert '"status":"completed"' in body


def test_studio_follows_jobs_still_running_after_a_reload(alice):
    done = generate_done(alice)
    running = Generation.objects.create(
        user=alice.user, model_id=LOCAL_MODEL, provider="local", status=Status.PROCESSING, width=64, height=64
    )
    html = signed_in(alice.user).get("/").content.decode()
    start = html.index('<script id="running-jobs" type="application/json">')
    listed = json.loads(html[html.index(">", start) + 1 : html.index("</script>", start)])
    assert [job["id"] for job in listed] == [str(running.pk)]
    assert done["id"] not in html[start:]


def test_studio_uses_human_words_for_sizes_styles_and_prices(alice):
    html = signed_in(alice.user).get("/").content.decode()
    for label in ("Square HD · 1024×1024", "Landscape 16:9 · ", ">Digital art<", ">3D render<", ">Pixel art<"):
        assert label in html, label
    for raw in ("Square hd", "Landscape 16 9", ">Digital-art<", ">3d-render<", "credits)"):
        assert raw not in html, raw
    assert "Local procedural renderer · 1 credit<" in html
    assert "Local image-to-video (pan and zoom) · 3 credits<" in html
    assert 'id="enhance-prompt"' in html


def test_studio_says_which_models_apply_loras_and_what_they_add_to_the_price(alice, settings):
    specs = _specs(signed_in(alice.user).get("/"))
    # The local renderer applies the local trainer's style adapters to pictures, not to videos.
    assert specs[LOCAL_MODEL]["lora_providers"] == ["local"]
    assert specs["local/image-to-image"]["lora_providers"] == ["local"]
    assert specs["local/image-to-video"]["lora_providers"] == []
    # Hosted models that load LoRAs take their provider's and any weights URL; the others none.
    assert specs["fal-ai/flux-lora"]["lora_providers"] == ["fal"]
    assert specs["fal-ai/flux-lora"]["takes_loras"] is True
    assert specs["fal-ai/flux/dev"]["lora_providers"] == [] and specs["fal-ai/flux/dev"]["takes_loras"] is False
    assert specs[LOCAL_MODEL]["lora_extra"] == settings.ATELIER_CREDIT_LORA_EXTRA
    html = signed_in(alice.user).get("/").content.decode()
    assert 'id="id_lora"' in html and 'id="id_lora_scale"' in html and 'id="id_lora_scale_range"' in html
    assert "This model takes no advanced parameters" not in html


def test_studio_is_prefilled_with_a_lora_and_its_scale(alice):
    lora_id = "0b7f1c8e-8f7e-4a51-9d5e-3f2b6a1c9d40"
    html = signed_in(alice.user).get("/", {"lora": lora_id, "lora_scale": "0.7"}).content.decode()
    assert f'data-prefill="{lora_id}"' in html
    assert 'id="id_lora_scale" name="lora_scale" type="number" min="0" max="4" step="0.05" value="0.7"' in html


def test_studio_alias_keeps_the_query_string(alice):
    response = signed_in(alice.user).get("/studio", {"lora": "abc", "model": LOCAL_MODEL})
    assert response.status_code == 302
    assert response["Location"] == f"/?lora=abc&model={LOCAL_MODEL.replace('/', '%2F')}"


def _image_to_image(client) -> dict:
    image = upload(png(picture(96, 64)))
    form = {"sync_mode": "false", "model": "local/image-to-image", "prompt": "ocean", "image": image}
    response = client.post("/api/generate", form, format="multipart")
    assert response.status_code == 201, response.content
    return response.json()["generation"]


def test_studio_carries_the_reference_image_of_an_earlier_generation(alice, bob):
    generation = _image_to_image(alice)
    html = signed_in(alice.user).get("/", {"model": "local/image-to-image", "inputs_from": generation["id"]}).content
    html = html.decode()
    assert f'<input type="hidden" name="inputs_from" value="{generation["id"]}">' in html
    assert 'src="data:image/webp;base64,' in html and "(96×64)" in html
    # Someone else's generation, or one without inputs, carries nothing.
    other = signed_in(bob.user).get("/", {"inputs_from": generation["id"]}).content.decode()
    assert 'name="inputs_from"' not in other
    plain = generate_done(alice)
    assert 'name="inputs_from"' not in signed_in(alice.user).get("/", {"inputs_from": plain["id"]}).content.decode()
    assert 'name="inputs_from"' not in signed_in(alice.user).get("/", {"inputs_from": "nope"}).content.decode()


def test_use_all_settings_carries_the_reference_image(alice, bob):
    generation = _image_to_image(alice)
    done = alice.get(f"/api/generate/{generation['id']}").json()["generation"]
    asset_id = done["images"][0]["id"]
    html = signed_in(alice.user).get(f"/asset/{asset_id}").content.decode()
    link = re.search(r'href="([^"]+)">Use all settings', html).group(1).replace("&amp;", "&")
    assert link == f"/?from_asset={asset_id}"
    studio = signed_in(alice.user).get(link).content.decode()
    assert f'<input type="hidden" name="from_asset" value="{asset_id}">' in studio
    assert f'<input type="hidden" name="inputs_from" value="{generation["id"]}">' in studio
    assert re.search(r'<option value="local/image-to-image"\s+selected', studio)
    # Someone else's asset fills nothing.
    other = signed_in(bob.user).get(link).content.decode()
    assert 'name="from_asset"' not in other and 'name="inputs_from"' not in other
    # A text-to-image result has no reference to carry.
    plain = generate_done(alice)
    html = signed_in(alice.user).get(f"/?from_asset={plain['images'][0]['id']}").content.decode()
    assert 'name="from_asset"' in html and "inputs_from" not in html


def test_open_the_studio_from_the_training_page_chooses_the_lora_and_a_model_for_it(alice):
    job = start(alice, upload_images(alice, image_files(3)), steps=20).json()
    lora_id = alice.get(f"/api/training/status/{job['training_id']}").json()["lora_id"]
    html = signed_in(alice.user).get("/training").content.decode()
    link = re.search(r'href="([^"]+)">Open the studio', html).group(1).replace("&amp;", "&")
    assert link == f"/?lora={lora_id}&model=local%2Fprocedural"
    assert signed_in(alice.user).get(link).status_code == 200


def test_use_all_settings_carries_the_lora_and_its_scale(alice):
    job = start(alice, upload_images(alice, image_files(3)), steps=20).json()
    lora_id = alice.get(f"/api/training/status/{job['training_id']}").json()["lora_id"]
    generation = generate_done(alice, prompt="a kite", loras=[{"path": lora_id, "scale": 0.5}])
    html = signed_in(alice.user).get(f"/asset/{generation['images'][0]['id']}").content.decode()
    link = re.search(r'href="([^"]+)">Use all settings', html).group(1).replace("&amp;", "&")
    studio = signed_in(alice.user).get(link).content.decode()
    assert f'data-prefill="{lora_id}"' in studio
    assert re.search(r'name="lora_scale" type="number"[^>]* value="0.5"', studio)
    assert "inputs_from" not in studio


def test_recent_images_show_before_their_thumbnails_are_made(alice):
    # Thumbnails are made by a task after the job ends: a reload just then shows the image itself,
    # as the library does, not an empty tile.
    made = generate_done(alice, prompt="a kite over the dunes")
    asset_id = made["images"][0]["id"]
    html = signed_in(alice.user).get("/").content.decode()
    assert f'<img src="/api/gallery/{asset_id}/thumbnail"' in html
    Asset.objects.filter(pk=asset_id).update(thumbnail="")

    html = signed_in(alice.user).get("/").content.decode()

    assert f'<img src="/api/gallery/{asset_id}/file" alt="a kite over the dunes"' in html
