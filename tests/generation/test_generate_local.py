import pytest

from catalog.models import AIModel
from tests.helpers import LOCAL_MODEL, fetch_image, generate, generate_done, pixels

pytestmark = pytest.mark.django_db


def test_new_user_generates_an_image_end_to_end(alice):
    cost = AIModel.objects.get(pk=LOCAL_MODEL).credit_cost
    before = alice.get("/api/credits").json()["credits"]["remaining"]

    response = generate(alice, prompt="a red fox in the snow", width=640, height=480, format="webp", seed=7)

    assert response.status_code == 201, response.content
    body = response.json()
    generation = body["generation"]
    assert body["credits_used"] == cost
    assert body["credits_remaining"] == before - cost

    status = alice.get(f"/api/generate/{generation['id']}").json()["generation"]
    assert status["status"] == "completed"
    assert status["progress"] == 100
    assert len(status["images"]) == 1
    assert status["started_at"] and status["finished_at"]
    assert [line["message"] for line in status["logs"]][-1] == "Completed with 1 output(s)"
    image = fetch_image(alice, status["images"][0]["url"])
    assert image.format == "WEBP"
    assert image.size == (640, 480)

    gallery = alice.get("/api/gallery").json()
    assert [item["id"] for item in gallery["images"]] == [status["images"][0]["id"]]
    assert gallery["images"][0]["prompt"] == "a red fox in the snow"
    assert gallery["pagination"]["total"] == 1

    assert alice.get("/api/credits").json()["credits"]["remaining"] == before - cost
    ledger = alice.get("/api/credits/ledger").json()["entries"]
    assert ledger[0]["kind"] == "debit"
    assert ledger[0]["amount"] == -cost
    assert ledger[0]["balance_after"] == before - cost
    assert ledger[0]["generation_id"] == generation["id"]


@pytest.mark.parametrize("fmt, pil_format", [("png", "PNG"), ("jpeg", "JPEG"), ("webp", "WEBP")])
def test_every_output_format_decodes(alice, fmt, pil_format):
    generation = generate_done(alice, width=256, height=192, format=fmt)
    image = fetch_image(alice, generation["images"][0]["url"])
    assert (image.format, image.size) == (pil_format, (256, 192))


def test_batch_charges_per_image_and_makes_each_image(alice):
    cost = AIModel.objects.get(pk=LOCAL_MODEL).credit_cost
    generation = generate_done(alice, num_images=3, width=128, height=128, seed=10)
    assert generation["credits_used"] == 3 * cost
    assert [image["seed"] for image in generation["images"]] == [10, 11, 12]
    assert len({pixels(alice, image["url"]) for image in generation["images"]}) == 3


def test_same_prompt_and_seed_give_identical_pixels(alice):
    first = generate_done(alice, prompt="misty forest", seed=42, width=320, height=240)
    second = generate_done(alice, prompt="misty forest", seed=42, width=320, height=240)
    assert first["id"] != second["id"]
    assert pixels(alice, first["images"][0]["url"]) == pixels(alice, second["images"][0]["url"])


def test_different_prompt_gives_different_pixels(alice):
    first = generate_done(alice, prompt="misty forest", seed=42, width=320, height=240)
    other = generate_done(alice, prompt="neon city at night", seed=42, width=320, height=240)
    assert pixels(alice, first["images"][0]["url"]) != pixels(alice, other["images"][0]["url"])


def test_seed_is_chosen_and_reported_when_not_given(alice):
    generation = generate_done(alice, width=128, height=128)
    assert isinstance(generation["seed"], int)
    assert generation["images"][0]["seed"] == generation["seed"]


def test_model_alias_and_default_model_work(alice):
    by_alias = generate(alice, model="local", width=128, height=128).json()
    assert by_alias["generation"]["model"] == LOCAL_MODEL
    default = alice.post("/api/generate", {"prompt": "a boat", "width": 128, "height": 128}, format="json")
    assert default.json()["generation"]["model"] == LOCAL_MODEL


def test_size_preset_is_accepted(alice):
    body = generate(alice, image_size="landscape_4_3").json()
    assert (body["generation"]["width"], body["generation"]["height"]) == (1365, 1024)


def test_list_shows_only_my_generations_with_status_filter(alice, bob):
    mine = generate(alice, width=128, height=128).json()["generation"]["id"]
    generate(bob, width=128, height=128)
    listed = alice.get("/api/generate").json()
    assert [g["id"] for g in listed["generations"]] == [mine]
    assert alice.get("/api/generate?status=failed").json()["generations"] == []
    assert alice.get("/api/generate?status=nonsense").status_code == 400
