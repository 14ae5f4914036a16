"""The gallery and the API answers say which API each job came by: Atelier's own, OpenAI's
Images API or AUTOMATIC1111's, each asked through its own client."""

import openai
import pytest
import webuiapi
from django.test import Client

pytestmark = pytest.mark.django_db(transaction=True)


def _one_through_each_api(live_server, alice) -> dict[str, str]:
    """The asset id each API's generation made, by API."""
    canonical = alice.post(
        "/api/generate", {"prompt": "a kite", "width": 256, "height": 256, "sync_mode": True}, format="json"
    )
    assert canonical.status_code == 200, canonical.content
    sdk = openai.OpenAI(base_url=f"{live_server.url}/v1", api_key=alice.secret, max_retries=0, timeout=30)
    sdk.images.generate(prompt="a kite", size="256x256", user="end-user-42")
    webui = webuiapi.WebUIApi(host="127.0.0.1", port=int(live_server.url.rsplit(":", 1)[1]))
    webui.set_auth("alice", alice.secret)
    webui.txt2img(prompt="a kite", width=256, height=256)
    assets = alice.get("/api/gallery").json()["images"]
    return {asset["generation"]["api"]: asset["id"] for asset in assets}


def test_each_asset_and_generation_says_the_api_it_came_by(live_server, alice, bob, staff):
    by_api = _one_through_each_api(live_server, alice)
    assert set(by_api) == {"atelier", "openai", "automatic1111"}
    generations = alice.get("/api/generate").json()["generations"]
    assert sorted(generation["api"] for generation in generations) == ["atelier", "automatic1111", "openai"]
    # The asset page says it in words, to its owner only.
    browser = Client()
    browser.force_login(alice.user)
    for api, label in (("openai", "OpenAI Images API"), ("automatic1111", "AUTOMATIC1111 API")):
        page = browser.get(f"/asset/{by_api[api]}")
        assert page.status_code == 200
        assert "Asked through" in page.text and label in page.text
    stranger = Client()
    stranger.force_login(bob.user)
    assert stranger.get(f"/asset/{by_api['openai']}").status_code == 404
    # Operators filter the generations by it.
    admin = Client()
    admin.force_login(staff.user)
    listed = admin.get("/admin/generation/generation/", {"api__exact": "openai"})
    assert listed.status_code == 200
    assert listed.context["cl"].result_count == 1
    assert "OpenAI Images API" in listed.text
    # The end user the calling app named (OpenAI's user) is kept, and operators find it.
    found = admin.get("/admin/generation/generation/", {"q": "end-user-42"})
    assert found.context["cl"].result_count == 1
    [generation] = found.context["cl"].result_list
    assert (generation.api, generation.end_user) == ("openai", "end-user-42")
    page = admin.get(f"/admin/generation/generation/{generation.pk}/change/")
    assert page.status_code == 200 and "end-user-42" in page.text
