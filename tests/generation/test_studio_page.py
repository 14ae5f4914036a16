import json
import re

import pytest

from catalog.models import AIModel
from generation.models import Generation, Status
from tests.helpers import LOCAL_MODEL, generate_done, signed_in


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
