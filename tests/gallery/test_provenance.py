"""What made each image travels inside its file: written when outputs are stored, kept by
conversions, read back by the provenance endpoints. Files are read here with Pillow directly."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, PngImagePlugin

from tests.gallery.conftest import atelier_metadata, body_of, opened_image
from tests.helpers import LOCAL_MODEL, assert_envelope, generate_done

pytestmark = pytest.mark.django_db

PROMPT = "a red fox in the snow, at dawn"
NEGATIVE = "blurry"


def _parameters(image: Image.Image) -> str:
    if image.format == "PNG":
        return image.text["parameters"]
    return image.getexif()[0x010E]


def _stored_file(client, generation: dict) -> bytes:
    return body_of(client.get(f"/api/gallery/{generation['images'][0]['id']}/file"))


def _generated(client, fmt: str, **extra) -> dict:
    return generate_done(
        client, prompt=PROMPT, negative_prompt=NEGATIVE, width=96, height=64, seed=7, format=fmt, **extra
    )


@pytest.mark.parametrize("fmt, pil_format", [("png", "PNG"), ("jpeg", "JPEG"), ("webp", "WEBP")])
def test_each_stored_output_carries_what_made_it(alice, fmt, pil_format):
    generation = _generated(alice, fmt)

    image = opened_image(_stored_file(alice, generation))

    assert (image.format, image.size) == (pil_format, (96, 64))
    metadata = atelier_metadata(image)
    assert metadata["prompt"] == PROMPT
    assert metadata["negative_prompt"] == NEGATIVE
    assert (metadata["model"], metadata["provider"]) == (LOCAL_MODEL, "local")
    assert (metadata["seed"], metadata["width"], metadata["height"]) == (7, 96, 64)
    assert metadata["generation_id"] == generation["id"]
    assert metadata["generator"] == "Atelier" and metadata["version"]
    parameters = _parameters(image)
    assert parameters.startswith(f"{PROMPT}\nNegative prompt: {NEGATIVE}\n")
    assert "Seed: 7" in parameters and "Size: 96x64" in parameters and f"Model: {LOCAL_MODEL}" in parameters
    if pil_format != "PNG":
        exif = image.getexif()
        assert exif[0x0131].startswith("Atelier ")
        assert PROMPT in image.info["xmp"].decode("utf-8")


def test_the_metadata_leaves_the_pixels_as_the_provider_made_them(alice):
    first = _generated(alice, "jpeg")
    second = _generated(alice, "jpeg")
    one, two = _stored_file(alice, first), _stored_file(alice, second)
    assert one != two
    assert opened_image(one).tobytes() == opened_image(two).tobytes()


@pytest.mark.parametrize(
    "original, wanted, pil_format", [("png", "jpeg", "JPEG"), ("jpeg", "webp", "WEBP"), ("webp", "png", "PNG")]
)
def test_a_converted_download_keeps_the_metadata(alice, original, wanted, pil_format):
    generation = _generated(alice, original)

    response = alice.get(f"/api/gallery/{generation['images'][0]['id']}/download", {"format": wanted})

    image = opened_image(body_of(response))
    assert image.format == pil_format
    metadata = atelier_metadata(image)
    assert (metadata["prompt"], metadata["seed"], metadata["generation_id"]) == (PROMPT, 7, generation["id"])
    assert _parameters(image).startswith(f"{PROMPT}\nNegative prompt: {NEGATIVE}\n")


def test_a_download_in_the_stored_format_is_the_stored_file(alice):
    generation = _generated(alice, "webp")
    response = alice.get(f"/api/gallery/{generation['images'][0]['id']}/download", {"format": "webp"})
    assert body_of(response) == _stored_file(alice, generation)


def test_the_provenance_endpoint_reads_the_stored_file_for_its_owner_only(alice, bob):
    generation = _generated(alice, "webp")
    url = f"/api/gallery/{generation['images'][0]['id']}/provenance"

    response = alice.get(url)

    assert response.status_code == 200, response.content
    provenance = response.json()["provenance"]
    assert (provenance["format"], provenance["found"]) == ("webp", True)
    assert provenance["atelier"]["prompt"] == PROMPT
    assert provenance["atelier"]["generation_id"] == generation["id"]
    assert provenance["fields"]["seed"] == 7
    assert (provenance["fields"]["width"], provenance["fields"]["height"]) == (96, 64)
    assert provenance["software"].startswith("Atelier ")
    assert_envelope(bob.get(url), 404, "not_found")


def _with_parameters(text: str) -> bytes:
    chunk = PngImagePlugin.PngInfo()
    chunk.add_text("parameters", text)
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (40, 90, 200)).save(out, "PNG", pnginfo=chunk)
    return out.getvalue()


def test_verify_reads_the_common_parameters_text_of_any_png(alice):
    text = (
        "masterpiece, a castle on a hill\nNegative prompt: lowres, bad hands\n"
        "Steps: 30, Sampler: DPM++ 2M Karras, CFG scale: 6.5, Seed: 1234, Size: 512x768, "
        'Model: dreamshaper_8, Lora hashes: "a: 1, b: 2"'
    )
    upload = SimpleUploadedFile("castle.png", _with_parameters(text), content_type="image/png")

    response = alice.post("/api/provenance/verify", {"file": upload}, format="multipart")

    assert response.status_code == 200, response.content
    provenance = response.json()["provenance"]
    assert (provenance["found"], provenance["atelier"], provenance["parameters"]) == (True, None, text)
    assert provenance["fields"] == {
        "prompt": "masterpiece, a castle on a hill",
        "negative_prompt": "lowres, bad hands",
        "steps": 30,
        "sampler": "DPM++ 2M Karras",
        "cfg_scale": 6.5,
        "seed": 1234,
        "width": 512,
        "height": 768,
        "model": "dreamshaper_8",
        "extra": {"Lora hashes": "a: 1, b: 2"},
    }


def test_verify_reads_atelier_metadata_from_a_downloaded_file(alice):
    generation = _generated(alice, "jpeg")
    upload = SimpleUploadedFile("fox.jpeg", _stored_file(alice, generation), content_type="image/jpeg")
    provenance = alice.post("/api/provenance/verify", {"file": upload}, format="multipart").json()["provenance"]
    assert (provenance["format"], provenance["atelier"]["generation_id"]) == ("jpeg", generation["id"])


def test_verify_refuses_a_file_that_is_not_an_image(alice):
    upload = SimpleUploadedFile("notes.png", b"not an image at all", content_type="image/png")
    body = assert_envelope(alice.post("/api/provenance/verify", {"file": upload}, format="multipart"), 400)
    assert "file" in body["details"]
    assert_envelope(alice.post("/api/provenance/verify", {}, format="multipart"), 400)


def test_the_provenance_answers_are_as_the_schema_says(alice, anon):
    from tests.ops.test_schema_truth import assert_served_as_documented

    openapi = anon.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    generation = _generated(alice, "png")
    path = next(path for path in openapi["paths"] if path.startswith("/api/gallery/{") and path.endswith("/provenance"))
    answer = alice.get(f"/api/gallery/{generation['images'][0]['id']}/provenance")
    assert_served_as_documented(openapi, "GET", path, answer)
    upload = SimpleUploadedFile("castle.png", _with_parameters("a castle\nSteps: 3, Seed: 1"), content_type="image/png")
    verified = alice.post("/api/provenance/verify", {"file": upload}, format="multipart")
    assert_served_as_documented(openapi, "POST", "/api/provenance/verify", verified)
    refused = alice.post("/api/provenance/verify", {"file": SimpleUploadedFile("x.png", b"x")}, format="multipart")
    assert_served_as_documented(openapi, "POST", "/api/provenance/verify", refused)


@pytest.mark.parametrize("fmt", ["png", "jpeg"])
def test_with_the_preference_off_the_prompts_stay_out_of_the_file(alice, fmt):
    changed = alice.patch("/api/user/profile", {"embed_prompt_metadata": False}, format="json")
    assert changed.status_code == 200, changed.content
    generation = _generated(alice, fmt)

    data = _stored_file(alice, generation)

    assert PROMPT.encode() not in data and NEGATIVE.encode() not in data
    image = opened_image(data)
    metadata = atelier_metadata(image)
    assert "prompt" not in metadata and "negative_prompt" not in metadata
    assert (metadata["seed"], metadata["model"], metadata["generation_id"]) == (7, LOCAL_MODEL, generation["id"])
    assert _parameters(image).startswith("Seed: 7, Size: 96x64")
    converted = body_of(alice.get(f"/api/gallery/{generation['images'][0]['id']}/download", {"format": "webp"}))
    assert PROMPT.encode() not in converted
    assert "prompt" not in atelier_metadata(opened_image(converted))


def test_the_preference_is_a_boolean(alice):
    assert_envelope(alice.patch("/api/user/profile", {"embed_prompt_metadata": "no"}, format="json"), 400)


def test_an_image_to_image_output_names_its_input(alice):
    from generation.models import GenerationInput
    from tests.inputs.conftest import picture, png, upload

    response = alice.post(
        "/api/generate",
        {"sync_mode": "false", "model": "local-img2img", "prompt": "ocean", "image": upload(png(picture(80, 60)))},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    generation = alice.get(f"/api/generate/{response.json()['generation']['id']}").json()["generation"]

    metadata = atelier_metadata(opened_image(_stored_file(alice, generation)))

    stored_input = GenerationInput.objects.get(generation_id=generation["id"], role="image")
    assert metadata["source"] == {"sha256": stored_input.sha256}
    assert metadata["model"] == "local/image-to-image"


def test_the_metadata_joins_the_exif_a_provider_wrote(settings):
    from gallery.provenance import metadata_embed

    exif = Image.Exif()
    exif[0x0112] = 6  # rotated: the picture must stay upright as the provider meant it
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (1, 2, 3)).save(out, "JPEG", exif=exif)

    image = opened_image(metadata_embed(out.getvalue(), "jpeg", {"prompt": PROMPT, "seed": 3}))

    assert image.getexif()[0x0112] == 6
    assert atelier_metadata(image) == {"prompt": PROMPT, "seed": 3}
