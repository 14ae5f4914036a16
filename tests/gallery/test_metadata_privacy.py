"""Keeping prompts out of files: ``embed_metadata: false`` per request, the owner's
``embed_prompt_metadata`` and ``share_prompt_metadata`` (API and account page), and public share
links that serve a copy without the prompts. Files are read back with Pillow."""

import io
import json
import re
from pathlib import Path

import c2pa
import pytest
from django.core.management import call_command
from PIL import Image

from gallery.models import Asset
from tests.gallery.conftest import atelier_metadata, body_of, opened_image
from tests.helpers import LOCAL_MODEL, assert_envelope, generate_done, signed_in

pytestmark = pytest.mark.django_db

PROMPT = "a secret lighthouse on a violet cliff"
NEGATIVE = "pale fog"


def _parameters(image: Image.Image) -> str:
    return image.text["parameters"] if image.format == "PNG" else image.getexif()[0x010E]


def _holds_prompts(data: bytes) -> bool:
    """Whether the prompt or negative prompt is anywhere in the file, in any of the encodings
    its metadata uses (UTF-8 text and XMP, UTF-16 EXIF UserComment)."""
    return any(text.encode(codec) in data for text in (PROMPT, NEGATIVE) for codec in ("utf-8", "utf-16-be"))


def _generated(client, fmt: str = "png", **extra) -> dict:
    return generate_done(
        client, prompt=PROMPT, negative_prompt=NEGATIVE, width=96, height=64, seed=7, format=fmt, **extra
    )


def _own_file(client, generation: dict) -> bytes:
    return body_of(client.get(f"/api/gallery/{generation['images'][0]['id']}/file"))


def _shared(client, generation: dict) -> str:
    """Makes the generation's image public and returns the path of its raw shared file."""
    asset_id = generation["images"][0]["id"]
    answer = client.patch(f"/api/gallery/{asset_id}", {"is_public": True}, format="json")
    assert answer.status_code == 200, answer.content
    return f"/s/{Asset.objects.get(pk=asset_id).short_key}/raw"


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_embed_metadata_false_keeps_the_prompts_out_of_that_generations_files(alice, fmt):
    kept_out = _generated(alice, fmt, embed_metadata=False)
    kept_in = _generated(alice, fmt)

    assert (kept_out["embed_metadata"], kept_in["embed_metadata"]) == (False, True)
    data = _own_file(alice, kept_out)
    assert not _holds_prompts(data)
    image = opened_image(data)
    metadata = atelier_metadata(image)
    assert not {"prompt", "final_prompt", "negative_prompt"} & set(metadata)
    assert (metadata["seed"], metadata["model"], metadata["generation_id"]) == (7, LOCAL_MODEL, kept_out["id"])
    assert _parameters(image).startswith("Seed: 7, Size: 96x64")
    converted = body_of(alice.get(f"/api/gallery/{kept_out['images'][0]['id']}/download", {"format": "png"}))
    assert not _holds_prompts(converted)

    assert _holds_prompts(_own_file(alice, kept_in))
    assert atelier_metadata(opened_image(_own_file(alice, kept_in)))["prompt"] == PROMPT


def test_the_request_overrides_the_owners_preference_both_ways(alice):
    alice.patch("/api/user/profile", {"embed_prompt_metadata": False}, format="json")
    assert not _holds_prompts(_own_file(alice, _generated(alice)))
    asked = _generated(alice, embed_metadata=True)
    assert atelier_metadata(opened_image(_own_file(alice, asked)))["negative_prompt"] == NEGATIVE


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_a_share_link_serves_the_image_without_its_prompts_unless_the_owner_shares_them(alice, anon, fmt):
    generation = _generated(alice, fmt)
    raw = _shared(alice, generation)
    original = opened_image(_own_file(alice, generation))

    served = body_of(anon.get(raw))

    assert not _holds_prompts(served)
    image = opened_image(served)
    metadata = atelier_metadata(image)
    assert not {"prompt", "final_prompt", "negative_prompt"} & set(metadata)
    assert (metadata["seed"], metadata["width"], metadata["generation_id"]) == (7, 96, generation["id"])
    assert "Seed: 7" in _parameters(image) and PROMPT not in _parameters(image)
    # The same pixels: only the metadata changed.
    assert (image.mode, image.size, image.tobytes()) == (original.mode, original.size, original.tobytes())
    # The owner's own file keeps them.
    assert atelier_metadata(original)["prompt"] == PROMPT

    shared = alice.patch("/api/user/profile", {"share_prompt_metadata": True}, format="json")
    assert shared.json()["privacy"] == {"embed_prompt_metadata": True, "share_prompt_metadata": True}
    with_prompts = body_of(anon.get(raw))
    assert atelier_metadata(opened_image(with_prompts))["prompt"] == PROMPT
    assert _holds_prompts(with_prompts)


@pytest.fixture
def signing(settings, tmp_path):
    """The test CA and signer of the management command ``make run`` uses, configured."""
    out = io.StringIO()
    call_command("c2pa_test_signer", "--dir", str(tmp_path), stdout=out)
    signer = dict(line.split("=", 1) for line in out.getvalue().split())
    for name in ("ATELIER_C2PA_CERT", "ATELIER_C2PA_KEY", "ATELIER_C2PA_TRUST_ANCHORS"):
        setattr(settings, name, signer[name])
    return signer


@pytest.mark.parametrize("fmt, mime", [("png", "image/png"), ("jpeg", "image/jpeg")])
def test_the_copy_without_prompts_is_signed_again_and_validates(alice, anon, signing, fmt, mime):
    generation = _generated(alice, fmt)
    served = body_of(anon.get(_shared(alice, generation)))

    assert not _holds_prompts(served)
    config = {
        "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False},
        "trust": {"user_anchors": Path(signing["ATELIER_C2PA_TRUST_ANCHORS"]).read_text()},
    }
    with c2pa.Context.from_dict(config) as context, c2pa.Reader(mime, io.BytesIO(served), None, context) as reader:
        store = json.loads(reader.json())
    assert store["validation_state"] == "Trusted", store.get("validation_results")


def test_the_copy_without_prompts_goes_with_its_asset(alice, anon, django_capture_on_commit_callbacks):
    generation = _generated(alice)
    raw = _shared(alice, generation)
    body_of(anon.get(raw))
    asset = Asset.objects.get(pk=generation["images"][0]["id"])
    storage, copies = asset.file.storage, [f"conversions/{asset.owner_id}/{asset.pk}.shared.png"]
    assert storage.exists(copies[0])

    with django_capture_on_commit_callbacks(execute=True):
        assert alice.delete(f"/api/gallery/{asset.pk}").status_code in (200, 204)
    assert not storage.exists(copies[0])
    assert anon.get(raw).status_code == 404


def test_the_profile_shows_and_changes_where_prompts_go(alice, bob):
    profile = alice.get("/api/user/profile").json()
    assert profile["privacy"] == {"embed_prompt_metadata": True, "share_prompt_metadata": False}
    # Seed 004's preferences keep exactly their keys.
    assert set(profile["preferences"]) == {"default_style", "preferred_format", "email_notifications"}

    changed = alice.patch(
        "/api/user/profile",
        {"preferences": {"embed_prompt_metadata": False, "share_prompt_metadata": True}},
        format="json",
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["privacy"] == {"embed_prompt_metadata": False, "share_prompt_metadata": True}
    body = assert_envelope(alice.patch("/api/user/profile", {"share_prompt_metadata": "yes"}, format="json"), 400)
    assert "share_prompt_metadata" in body["details"]
    assert bob.get("/api/user/profile").json()["privacy"] == {
        "embed_prompt_metadata": True,
        "share_prompt_metadata": False,
    }


def test_the_account_page_shows_and_saves_the_privacy_choices(alice, bob):
    browser = signed_in(alice.user)
    page = browser.get("/account").content.decode()
    assert re.search(r'<input type="checkbox" name="embed_prompt_metadata"[^>]*checked', page)
    assert not re.search(r'<input type="checkbox" name="share_prompt_metadata"[^>]*checked', page)

    # A form sends only the ticked boxes: here, sharing on and embedding off.
    saved = browser.post("/account/privacy", {"share_prompt_metadata": "on"}, follow=True)
    assert saved.status_code == 200
    page = saved.content.decode()
    assert "Privacy choices saved." in page
    assert not re.search(r'<input type="checkbox" name="embed_prompt_metadata"[^>]*checked', page)
    assert re.search(r'<input type="checkbox" name="share_prompt_metadata"[^>]*checked', page)
    assert alice.get("/api/user/profile").json()["privacy"] == {
        "embed_prompt_metadata": False,
        "share_prompt_metadata": True,
    }
    assert bob.get("/api/user/profile").json()["privacy"]["share_prompt_metadata"] is False
    assert not _holds_prompts(_own_file(alice, _generated(alice)))


def test_one_image_can_share_its_prompts_or_keep_them_out_whatever_the_default(alice, bob, anon):
    generation = _generated(alice)
    raw = _shared(alice, generation)
    asset_id = generation["images"][0]["id"]

    chosen = alice.patch(f"/api/gallery/{asset_id}", {"share_prompt_metadata": True}, format="json")
    assert chosen.status_code == 200, chosen.content
    assert chosen.json()["image"]["share_prompt_metadata"] is True
    assert _holds_prompts(body_of(anon.get(raw)))
    # Another image keeps the default: without.
    other = _generated(alice)
    assert not _holds_prompts(body_of(anon.get(_shared(alice, other))))

    # From the asset page's share panel, as its button posts it; bob cannot touch it.
    browser = signed_in(alice.user)
    assert "The shared file carries your prompt." in browser.get(f"/asset/{asset_id}").content.decode()
    assert (
        signed_in(bob.user).post(f"/asset/{asset_id}/share-prompts", {"share_prompt_metadata": "1"}).status_code == 404
    )
    panel = browser.post(f"/asset/{asset_id}/share-prompts", {"share_prompt_metadata": "0"}, HTTP_HX_REQUEST="true")
    assert "The shared file carries no prompt." in panel.content.decode()
    assert not _holds_prompts(body_of(anon.get(raw)))

    # The owner's default no longer decides for this image, either way.
    alice.patch("/api/user/profile", {"share_prompt_metadata": True}, format="json")
    assert not _holds_prompts(body_of(anon.get(raw)))
    assert _holds_prompts(body_of(anon.get(_shared(alice, other))))
    cleared = alice.patch(f"/api/gallery/{asset_id}", {"share_prompt_metadata": None}, format="json")
    assert cleared.json()["image"]["share_prompt_metadata"] is None
    assert _holds_prompts(body_of(anon.get(raw)))
