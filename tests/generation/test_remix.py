"""Recall and remix: ``from_asset`` and ``remix_of`` on ``POST /api/generate`` take every setting of
an earlier generation, the request's own fields overriding them, and the local provider draws the
same pixels again."""

import uuid

import pytest
from PIL import Image, ImageDraw

from generation.models import Generation
from tests.helpers import LOCAL_MODEL, assert_envelope, credits_remaining, fetch_image, generate_done
from tests.inputs.conftest import picture, png, upload
from tests.training.factories import image_files, start
from tests.training.factories import upload as upload_dataset

pytestmark = pytest.mark.django_db


def _decoded(client, image: dict) -> Image.Image:
    """The image's file, decoded by Pillow into its pixels."""
    decoded = fetch_image(client, image["url"])
    decoded.load()
    return decoded


def _same_pixels(client, first: dict, second: dict) -> bool:
    a, b = _decoded(client, first), _decoded(client, second)
    return (a.mode, a.size, a.tobytes()) == (b.mode, b.size, b.tobytes())


def _remix(client, **payload) -> dict:
    """Posts exactly ``payload`` (no default prompt or model) and returns the generation as GET shows it."""
    response = client.post("/api/generate", payload, format="json")
    assert response.status_code == 201, response.content
    return client.get(f"/api/generate/{response.json()['generation']['id']}").json()["generation"]


def _trained_lora(client) -> str:
    response = start(client, upload_dataset(client, image_files(4)), steps=20)
    assert response.status_code == 201, response.content
    status = client.get(f"/api/training/status/{response.json()['training_id']}").json()
    assert status["status"] == "completed", status
    return status["lora_id"]


def test_from_asset_takes_every_setting_and_draws_the_same_pixels(alice):
    lora_id = _trained_lora(alice)
    first = generate_done(
        alice,
        prompt="a lighthouse on a cliff",
        negative_prompt="fog",
        art_style="classic",
        seed=4242,
        width=320,
        height=240,
        num_inference_steps=12,
        guidance_scale=6.5,
        format="png",
        loras=[{"path": lora_id, "scale": 0.5}],
    )
    assert first["status"] == "completed", first
    before = credits_remaining(alice)

    response = alice.post("/api/generate", {"from_asset": first["images"][0]["id"]}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    remix = alice.get(f"/api/generate/{body['generation']['id']}").json()["generation"]
    assert body["generation"]["remix_of"] == first["id"] == remix["remix_of"]
    assert remix["status"] == "completed", remix
    for name in ("model", "prompt", "final_prompt", "negative_prompt", "width", "height", "seed", "output_format"):
        assert remix[name] == first[name], name
    assert remix["params"]["art_style"] == "classic"
    assert remix["params"]["loras"] == [{"path": lora_id, "scale": 0.5}]
    assert (remix["params"]["num_inference_steps"], remix["params"]["guidance_scale"]) == (12, 6.5)
    # The style's words are in the negative prompt once, not twice.
    assert remix["negative_prompt"].count("photograph") == first["negative_prompt"].count("photograph") == 1
    assert body["credits_used"] == first["credits_used"]
    assert credits_remaining(alice) == before - first["credits_used"]
    assert _same_pixels(alice, remix["images"][0], first["images"][0])


def test_from_asset_recalls_that_image_of_a_batch_with_its_own_seed(alice):
    batch = generate_done(alice, prompt="three kites", num_images=3, seed=10, width=160, height=160)
    third = batch["images"][2]

    remix = _remix(alice, from_asset=third["id"])

    assert (remix["seed"], remix["num_images"]) == (12, 1)
    assert _same_pixels(alice, remix["images"][0], third)


def test_remix_of_takes_the_whole_generation_and_the_request_overrides_what_it_names(alice):
    source = generate_done(alice, prompt="misty forest", num_images=2, seed=7, width=192, height=128, format="webp")

    again = _remix(alice, remix_of=source["id"])
    assert (again["num_images"], again["seed"], again["output_format"]) == (2, 7, "webp")
    assert [_same_pixels(alice, a, b) for a, b in zip(again["images"], source["images"], strict=True)] == [True, True]

    changed = _remix(alice, remix_of=source["id"], prompt="neon city at night", num_images=1, format="png")
    assert changed["remix_of"] == source["id"]
    assert (changed["prompt"], changed["num_images"], changed["output_format"]) == ("neon city at night", 1, "png")
    assert (changed["seed"], changed["width"], changed["height"]) == (7, 192, 128)
    assert not _same_pixels(alice, changed["images"][0], source["images"][0])

    resized = _remix(alice, remix_of=source["id"], image_size={"width": 96, "height": 96}, seed=None)
    assert (resized["width"], resized["height"], resized["prompt"]) == (96, 96, "misty forest")


def test_a_remix_reuses_the_input_image_and_mask(alice):
    source = picture(128, 96)
    mask = Image.new("L", source.size, 0)
    ImageDraw.Draw(mask).rectangle((0, 0, 63, 95), fill=255)
    response = alice.post(
        "/api/generate",
        {
            "model": "local-inpaint",
            "prompt": "moon",
            "image": upload(png(source)),
            "mask": upload(png(mask)),
            "seed": 3,
            "sync_mode": "false",
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    first = alice.get(f"/api/generate/{response.json()['generation']['id']}").json()["generation"]
    assert first["status"] == "completed", first

    # A form post, as seed 001's clients send: the settings come from the asset.
    response = alice.post(
        "/api/generate", {"from_asset": first["images"][0]["id"], "sync_mode": "false"}, format="multipart"
    )
    assert response.status_code == 201, response.content
    remix = alice.get(f"/api/generate/{response.json()['generation']['id']}").json()["generation"]

    assert (remix["model"], remix["remix_of"], remix["status"]) == ("local/inpainting", first["id"], "completed")
    assert _same_pixels(alice, remix["images"][0], first["images"][0])
    stored = {row.role: row.sha256 for row in Generation.objects.get(pk=remix["id"]).inputs.all()}
    assert stored == {row.role: row.sha256 for row in Generation.objects.get(pk=first["id"]).inputs.all()}


def test_someone_elses_asset_or_generation_reads_as_unknown_and_charges_nothing(alice, bob):
    mine = generate_done(alice, prompt="a private sketch", width=128, height=128)
    before = credits_remaining(bob)

    for field, value, unknown in (
        ("from_asset", mine["images"][0]["id"], str(uuid.uuid4())),
        ("remix_of", mine["id"], str(uuid.uuid4())),
    ):
        foreign = assert_envelope(bob.post("/api/generate", {field: value}, format="json"), 400, "validation_error")
        missing = assert_envelope(bob.post("/api/generate", {field: unknown}, format="json"), 400, "validation_error")
        # Another user's id and an id that exists nowhere get the very same answer.
        assert foreign["details"] == missing["details"] == {field: [foreign["details"][field][0]]}
        assert "You have no" in foreign["details"][field][0]
        assert "a private sketch" not in str(foreign)

    assert credits_remaining(bob) == before
    assert bob.get("/api/generate").json()["pagination"]["total"] == 0


def test_from_asset_and_remix_of_together_is_a_400(alice):
    mine = generate_done(alice, width=128, height=128)
    both = {"from_asset": mine["images"][0]["id"], "remix_of": mine["id"]}
    body = assert_envelope(alice.post("/api/generate", both, format="json"), 400, "validation_error")
    assert "remix_of" in body["details"]


def test_a_dry_run_quotes_the_remix(alice):
    source = generate_done(alice, model=LOCAL_MODEL, num_images=3, width=128, height=128)
    quote = alice.post("/api/generate", {"remix_of": source["id"], "dry_run": True}, format="json").json()
    assert (quote["model"], quote["num_images"], quote["cost"]) == (LOCAL_MODEL, 3, source["credits_used"])
