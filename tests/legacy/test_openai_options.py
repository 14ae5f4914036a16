"""GPT Image's ``background`` and ``output_compression`` through the official ``openai`` SDK at
Atelier's ``/v1``: passed on to OpenAI for GPT Image, refused (a transparent background) or
applied by Atelier's own encoder (the compression, as JPEG/WebP quality) for the other models,
with the same validation as ``POST /api/generate``."""

import base64
import io

import openai
import pytest
from PIL import Image

from credits.selectors import credits_balance
from generation.models import Generation
from tests.fakes.huggingface import FakeHuggingFace
from tests.fakes.openai_images import FakeOpenAIImages
from tests.helpers import assert_envelope, generate

pytestmark = pytest.mark.django_db(transaction=True)


def sdk(live_server, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{live_server.url}/v1", api_key=key, max_retries=0, timeout=30)


def image_of(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.fixture
def openai_fake(settings):
    fake = FakeOpenAIImages().start()
    settings.OPENAI_API_KEY = "sk-test-secret-key"
    settings.OPENAI_BASE_URL = fake.base_url
    yield fake
    fake.stop()


def _stored(generation: Generation) -> bytes:
    with generation.assets.get().file.open("rb") as handle:
        return handle.read()


def test_compression_sets_the_quality_of_the_jpeg_atelier_stores(live_server, alice):
    client = sdk(live_server, alice.secret)
    stored = {}
    for compression in (15, 95):
        answer = client.images.generate(
            prompt="a lighthouse at sunset over a stormy sea",
            model="local",
            size="512x512",
            output_format="jpeg",
            output_compression=compression,
            response_format="b64_json",
        )
        generation = Generation.objects.get(params__output_compression=compression)
        stored[compression] = _stored(generation)
        assert image_of(base64.b64decode(answer.data[0].b64_json)).format == "JPEG"

    low, high = image_of(stored[15]), image_of(stored[95])
    assert (low.format, low.size) == ("JPEG", (512, 512))
    # Lower compression value: coarser quantization and a smaller file, as with OpenAI.
    assert sum(low.quantization[0]) > 2 * sum(high.quantization[0])
    assert len(stored[15]) < len(stored[95]) / 2


def test_compression_of_webp_is_applied_and_png_ignores_it(live_server, alice):
    client = sdk(live_server, alice.secret)
    sizes = {}
    for compression in (10, 100):
        client.images.generate(
            prompt="a forest at night",
            model="local",
            size="384x384",
            output_format="webp",
            output_compression=compression,
        )
        sizes[compression] = len(_stored(Generation.objects.get(params__output_compression=compression)))
    assert sizes[10] < sizes[100]

    answer = client.images.generate(
        prompt="a forest at night",
        size="256x256",
        output_format="png",
        output_compression=5,
        response_format="b64_json",
    )
    assert image_of(base64.b64decode(answer.data[0].b64_json)).format == "PNG"


def test_gpt_image_gets_the_background_and_compression_it_was_asked_for(live_server, alice, openai_fake):
    client = sdk(live_server, alice.secret)
    answer = client.images.generate(
        prompt="a sticker of a fox",
        model="gpt-image-1",
        size="1024x1024",
        background="transparent",
        output_format="png",
        response_format="b64_json",
    )

    [request] = openai_fake.generations
    assert request.body["background"] == "transparent"
    assert "output_compression" not in request.body
    image = image_of(base64.b64decode(answer.data[0].b64_json))
    assert image.mode == "RGBA"
    assert image.getpixel((0, 0))[3] == 0 and image.getpixel((512, 512))[3] == 255
    stored = image_of(_stored(Generation.objects.get()))
    assert stored.mode == "RGBA" and stored.getpixel((0, 0))[3] == 0

    client.images.generate(
        prompt="a fox", model="gpt-image-1", background="opaque", output_format="jpeg", output_compression=30
    )
    second = openai_fake.generations[1].body
    assert (second["background"], second["output_format"], second["output_compression"]) == ("opaque", "jpeg", 30)


def test_a_transparent_background_is_refused_where_it_cannot_be_made(live_server, alice, openai_fake):
    client = sdk(live_server, alice.secret)
    balance = credits_balance(user=alice.user)

    with pytest.raises(openai.BadRequestError) as refused:
        client.images.generate(prompt="a sticker", model="local", background="transparent")
    error = refused.value.body
    assert error["param"] == "background"
    assert error["type"] == "invalid_request_error"
    assert "cannot make transparent backgrounds" in error["message"]

    # GPT Image can, but not in JPEG: refused before anything is sent, as OpenAI would refuse it.
    with pytest.raises(openai.BadRequestError) as jpeg:
        client.images.generate(prompt="a sticker", model="gpt-image-1", background="transparent", output_format="jpeg")
    assert jpeg.value.body["param"] == "background"
    assert "png or webp" in jpeg.value.body["message"]

    # DALL·E cannot either.
    with pytest.raises(openai.BadRequestError) as dall_e:
        client.images.generate(prompt="a sticker", model="dall-e-3", background="transparent")
    assert dall_e.value.body["param"] == "background"

    assert openai_fake.generations == []
    assert not Generation.objects.exists()
    assert credits_balance(user=alice.user) == balance

    # Opaque and auto are what every model makes.
    for background in ("opaque", "auto"):
        assert client.images.generate(prompt="a sticker", model="local", size="256x256", background=background).data


@pytest.mark.parametrize("compression", [-1, 101])
def test_compression_out_of_range_is_a_bad_request_naming_it(live_server, alice, compression):
    with pytest.raises(openai.BadRequestError) as refused:
        sdk(live_server, alice.secret).images.generate(
            prompt="a kite", output_format="jpeg", output_compression=compression
        )
    assert refused.value.body["param"] == "output_compression"
    assert not Generation.objects.exists()


def test_the_canonical_api_validates_the_same_fields(alice):
    response = generate(alice, format="jpeg", output_compression=150)
    assert "output_compression" in assert_envelope(response, 400)["details"]
    response = generate(alice, background="transparent")
    body = assert_envelope(response, 400)
    assert "cannot make transparent backgrounds" in body["details"]["background"][0]


def test_a_dall_e_png_converted_to_jpeg_takes_the_compression_as_its_quality(live_server, alice, openai_fake):
    client = sdk(live_server, alice.secret)
    for compression in (10, 95):
        client.images.generate(
            prompt="a fox", model="dall-e-2", size="256x256", output_format="jpeg", output_compression=compression
        )
    # DALL·E takes neither option: its PNG is encoded here.
    assert all("output_compression" not in request.body for request in openai_fake.generations)
    low, high = (image_of(_stored(Generation.objects.get(params__output_compression=c))) for c in (10, 95))
    assert (low.format, high.format) == ("JPEG", "JPEG")
    assert sum(low.quantization[0]) > 2 * sum(high.quantization[0])


def test_edits_take_the_same_options(live_server, alice, openai_fake):
    client = sdk(live_server, alice.secret)
    buffer = io.BytesIO()
    Image.new("RGB", (1024, 1024), (30, 120, 200)).save(buffer, "PNG")
    photo = ("photo.png", buffer.getvalue(), "image/png")

    with pytest.raises(openai.BadRequestError) as refused:
        client.images.edit(image=photo, prompt="a sticker", background="transparent")
    assert refused.value.body["param"] == "background"

    mask = io.BytesIO()
    Image.new("L", (1024, 1024), 255).save(mask, "PNG")
    client.images.edit(
        image=photo,
        mask=("mask.png", mask.getvalue(), "image/png"),
        prompt="a sticker",
        model="gpt-image-1-edit",
        background="transparent",
        output_format="webp",
    )
    [request] = openai_fake.edits
    assert (request.body["background"], request.body["output_format"]) == ("transparent", "webp")
    stored = image_of(_stored(Generation.objects.get()))
    assert (stored.format, stored.mode) == ("WEBP", "RGBA")


def test_a_stream_is_refused_before_it_starts(live_server, alice):
    with pytest.raises(openai.BadRequestError) as refused:
        sdk(live_server, alice.secret).images.generate(
            prompt="a sticker", model="local", background="transparent", stream=True, partial_images=1
        )
    assert refused.value.body["param"] == "background"
    assert not Generation.objects.exists()


def test_a_hugging_face_image_encoded_here_takes_the_compression(live_server, alice, settings):
    fake = FakeHuggingFace(estimated_time=0.05).start()
    settings.HF_TOKEN = "hf_test_secret_token"
    settings.HF_BASE_URL = f"{fake.url}/hf"
    try:
        client = sdk(live_server, alice.secret)
        for compression in (10, 95):
            client.images.generate(
                prompt="a fox",
                model="flux-schnell",
                size="512x512",
                output_format="jpeg",
                output_compression=compression,
            )
    finally:
        fake.stop()
    low, high = (image_of(_stored(Generation.objects.get(params__output_compression=c))) for c in (10, 95))
    assert (low.format, high.format) == ("JPEG", "JPEG")
    assert sum(low.quantization[0]) > 2 * sum(high.quantization[0])
