"""The official ``openai`` SDK, pointed at Atelier's ``/v1``, generates, edits and varies images,
lists the models and reads Atelier's refusals as its own exceptions."""

import base64
import io

import httpx
import openai
import pytest
from PIL import Image

from credits.selectors import credits_balance
from credits.services import credits_debit
from generation.models import Generation

pytestmark = pytest.mark.django_db(transaction=True)


def sdk(live_server, key: str) -> openai.OpenAI:
    # No retries: a refusal must reach the test as the exception the SDK raises for it.
    return openai.OpenAI(base_url=f"{live_server.url}/v1", api_key=key, max_retries=0, timeout=30)


def png(size=(96, 64), colour=(30, 120, 200), mode="RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def image_of(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_generate_answers_the_image_as_base64(live_server, alice):
    answer = sdk(live_server, alice.secret).images.generate(
        prompt="a red kite over the sea", size="256x256", response_format="b64_json"
    )
    assert len(answer.data) == 1
    image = image_of(base64.b64decode(answer.data[0].b64_json))
    assert (image.format, image.size) == ("PNG", (256, 256))
    assert answer.data[0].revised_prompt
    assert answer.created > 0
    generation = Generation.objects.get()
    assert (generation.model_id, generation.status) == ("local/procedural", "completed")


def test_generate_answers_urls_the_owner_can_fetch_and_nobody_else(live_server, alice, bob):
    answer = sdk(live_server, alice.secret).images.generate(
        prompt="a lighthouse", model="local", n=2, size="320x256", output_format="jpeg"
    )
    urls = [item.url for item in answer.data]
    assert len(urls) == 2 and all(url.startswith(live_server.url) for url in urls)
    fetched = httpx.get(urls[0], headers={"Authorization": f"Bearer {alice.secret}"})
    assert fetched.status_code == 200
    image = image_of(fetched.content)
    assert (image.format, image.size) == ("JPEG", (320, 256))
    assert httpx.get(urls[0], headers={"Authorization": f"Bearer {bob.secret}"}).status_code == 404


def test_idempotency_key_replays_the_same_generation(live_server, alice):
    client = sdk(live_server, alice.secret)
    headers = {"Idempotency-Key": "kite-1"}
    first = client.images.generate(prompt="a kite", size="256x256", extra_headers=headers)
    again = client.images.generate(prompt="a kite", size="256x256", extra_headers=headers)
    assert first.data[0].url == again.data[0].url
    assert Generation.objects.count() == 1


def test_edit_repaints_an_uploaded_png(live_server, alice):
    client = sdk(live_server, alice.secret)
    edited = client.images.edit(
        image=("photo.png", png(), "image/png"), prompt="stars", response_format="b64_json", n=1
    )
    assert image_of(base64.b64decode(edited.data[0].b64_json)).size == (96, 64)
    assert Generation.objects.get().model_id == "local/image-to-image"

    mask = png(colour=255, mode="L")
    inpainted = client.images.edit(
        image=("photo.png", png(), "image/png"), mask=("mask.png", mask, "image/png"), prompt="stars", size="128x128"
    )
    assert len(inpainted.data) == 1
    assert Generation.objects.order_by("-created_at").first().model_id == "local/inpainting"


@pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")
def test_variation_of_an_uploaded_png(live_server, alice):
    varied = sdk(live_server, alice.secret).images.create_variation(
        image=("photo.png", png(), "image/png"), n=2, response_format="b64_json"
    )
    assert [image_of(base64.b64decode(item.b64_json)).size for item in varied.data] == [(96, 64), (96, 64)]


def test_models_are_listed_and_retrieved_by_their_ids_with_slashes(live_server, alice):
    client = sdk(live_server, alice.secret)
    models = client.models.list()
    ids = [model.id for model in models.data]
    assert "local/procedural" in ids and "local/inpainting" in ids
    assert all(model.object == "model" and model.created > 0 for model in models.data)
    model = client.models.retrieve("local/procedural")
    assert (model.id, model.owned_by) == ("local/procedural", "local")
    with pytest.raises(openai.NotFoundError) as missing:
        client.models.retrieve("nobody/nothing")
    assert missing.value.code == "model_not_found"


def test_a_bad_key_is_the_sdks_authentication_error(live_server, db):
    with pytest.raises(openai.AuthenticationError) as refused:
        sdk(live_server, "not-a-key").images.generate(prompt="a kite")
    assert refused.value.status_code == 401
    assert refused.value.code == "invalid_api_key"


def test_bad_input_is_a_bad_request_naming_the_parameter(live_server, alice):
    client = sdk(live_server, alice.secret)
    with pytest.raises(openai.BadRequestError) as bad_size:
        client.images.generate(prompt="a kite", size="huge")
    assert (bad_size.value.param, bad_size.value.type) == ("size", "invalid_request_error")
    with pytest.raises(openai.BadRequestError) as too_small:
        client.images.generate(prompt="a kite", size="8x8")
    assert too_small.value.param == "size"
    with pytest.raises(openai.BadRequestError) as too_many:
        client.images.generate(prompt="a kite", n=9)
    assert too_many.value.param == "n"
    with pytest.raises(openai.BadRequestError) as unknown:
        client.images.generate(prompt="a kite", model="dall-e-99")
    assert unknown.value.param == "model"
    with pytest.raises(openai.BadRequestError) as no_image_input:
        client.images.edit(image=("photo.png", b"not an image", "image/png"), prompt="stars")
    assert no_image_input.value.param == "image"
    assert Generation.objects.count() == 0


def test_not_enough_credits_is_insufficient_quota(live_server, alice):
    credits_debit(user=alice.user, amount=credits_balance(user=alice.user), reason="spend it all")
    with pytest.raises(openai.APIStatusError) as refused:
        sdk(live_server, alice.secret).images.generate(prompt="a kite", size="256x256")
    assert refused.value.status_code == 402
    assert refused.value.code == "insufficient_quota"
    assert refused.value.type == "insufficient_quota"


def test_a_rate_limit_is_the_sdks_rate_limit_error_with_retry_after(live_server, alice, settings):
    settings.RATELIMIT_ENABLE = True
    settings.ATELIER_RATE_LIMITS = {**settings.ATELIER_RATE_LIMITS, "generation": "1/m"}
    client = sdk(live_server, alice.secret)
    client.images.generate(prompt="a kite", size="256x256")
    with pytest.raises(openai.RateLimitError) as limited:
        client.images.generate(prompt="a kite", size="256x256")
    assert limited.value.code == "rate_limit_exceeded"
    assert int(limited.value.response.headers["Retry-After"]) > 0


def test_an_unavailable_provider_is_a_server_error(live_server, alice):
    with pytest.raises(openai.InternalServerError) as failed:
        sdk(live_server, alice.secret).images.generate(prompt="a kite", model="fal-ai/flux/dev")
    assert failed.value.status_code == 503
    assert (failed.value.type, failed.value.code) == ("server_error", "provider_unavailable")
    assert failed.value.body["message"]


def test_a_disabled_account_is_the_sdks_permission_denied_error(live_server, alice):
    alice.user.is_active = False
    alice.user.save(update_fields=["is_active"])
    with pytest.raises(openai.PermissionDeniedError) as refused:
        sdk(live_server, alice.secret).images.generate(prompt="a kite", size="256x256")
    assert refused.value.status_code == 403
    assert refused.value.body["message"]
    assert Generation.objects.count() == 0
