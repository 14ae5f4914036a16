"""Upload abuse, route by route: bombs, truncated files, polyglots, wrong types, oversize bodies,
too many fields or files. Each is refused in the envelope (400 or 413), never a 500, and
nothing is charged or stored."""

import io
import os

import pytest
from PIL import Image

from generation.models import Generation, GenerationInput
from tests.helpers import assert_envelope, credits_remaining
from tests.inputs.conftest import jpeg, picture, png, png_bomb

pytestmark = pytest.mark.django_db

SMALL_LIMIT = 64 * 1024  # the image size limit of these tests, so that "oversize" stays small


def _file(data: bytes, name: str, content_type: str = "image/png"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type=content_type)


def _noise_png(side: int) -> bytes:
    return png(Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)))


def _truncated_png() -> bytes:
    data = png(picture(128, 128))
    return data[: len(data) // 3]


def _truncated_jpeg() -> bytes:
    data = jpeg(picture(128, 128))
    return data[: len(data) // 2]


def _html_polyglot() -> bytes:
    """PNG's magic bytes, then a page with a script: a browser sniffing it would run it."""
    return b"\x89PNG\r\n\x1a\n<html><body><script>alert(document.cookie)</script></body></html>"


def _gif_js_polyglot() -> bytes:
    return b"GIF89a/*\x01\x00\x01\x00\x00\x00\x00*/=1;alert(1);//" + b"\x00" * 32


def _svg_with_script() -> bytes:
    return b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script><rect width="9" height="9"/></svg>'


def _zip_named_png() -> bytes:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("../../etc/passwd", "root:x:0:0")
    return out.getvalue()


def _pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


ABUSES = {
    # name: (file bytes, file name, declared type, the statuses a refusal may have)
    "png-bomb-20000x20000": (png_bomb, "bomb.png", "image/png", {400, 413}),
    "truncated-png": (_truncated_png, "cut.png", "image/png", {400}),
    "truncated-jpeg": (_truncated_jpeg, "cut.jpg", "image/jpeg", {400}),
    "html-polyglot": (_html_polyglot, "page.png", "image/png", {400}),
    "gif-js-polyglot": (_gif_js_polyglot, "x.gif", "image/gif", {400}),
    "svg-with-script": (_svg_with_script, "x.svg", "image/svg+xml", {400}),
    "zip-named-png": (_zip_named_png, "archive.png", "image/png", {400}),
    "pdf-named-png": (_pdf, "doc.png", "image/png", {400}),
    "empty": (lambda: b"", "empty.png", "image/png", {400}),
    "oversize": (lambda: _noise_png(200), "big.png", "image/png", {400, 413}),
}

# The routes that take an uploaded image, and the fields that name one there.
ROUTES = [
    ("/api/generate", "image", {"model": "local-img2img", "sync_mode": "false"}),
    ("/api/generate", "mask", {"model": "local-inpaint", "sync_mode": "false"}),
    ("/generate/image", "image", {"model": "local-img2img"}),
]


@pytest.fixture(autouse=True)
def _small_limit(settings):
    settings.ATELIER_UPLOAD_MAX_IMAGE_BYTES = SMALL_LIMIT
    settings.ATELIER_SYNC_TIMEOUT_SECONDS = 1


def _nothing_happened(client, before: int) -> None:
    assert credits_remaining(client) == before
    assert not Generation.objects.exists()
    assert not GenerationInput.objects.exists()


@pytest.mark.parametrize("abuse", list(ABUSES))
@pytest.mark.parametrize("path, field, fields", ROUTES, ids=[f"{path}:{field}" for path, field, _ in ROUTES])
def test_an_abusive_upload_is_refused_in_the_envelope(alice, abuse, path, field, fields):
    make, name, content_type, statuses = ABUSES[abuse]
    before = credits_remaining(alice)
    payload = {"prompt": "a lighthouse", **fields, field: _file(make(), name, content_type)}
    if field == "mask":
        payload["image"] = _file(png(picture(64, 64)), "image.png")
    response = alice.post(path, payload, format="multipart")
    assert response.status_code in statuses, response.content
    assert_envelope(response, response.status_code)
    _nothing_happened(alice, before)


@pytest.mark.parametrize("path", ["/api/generate", "/generate/image", "/api/images/generate"])
def test_a_body_beyond_two_images_at_their_limit_is_a_413_before_it_is_read(alice, path):
    before = credits_remaining(alice)
    big = b"\0" * (2 * SMALL_LIMIT + 1024 * 1024 + 1)
    payload = {"prompt": "x", "model": "local-img2img", "image": _file(big, "big.png")}
    response = alice.post(path, payload, format="multipart")
    assert response.status_code in (400, 413), response.content
    assert_envelope(response, response.status_code)
    _nothing_happened(alice, before)


@pytest.mark.parametrize("path", ["/api/generate", "/generate/image", "/api/images/generate", "/api/image/generate"])
def test_too_many_files_or_fields_are_a_400(alice, path):
    before = credits_remaining(alice)
    files = {f"f{i}": _file(b"x", f"{i}.png") for i in range(101)}
    assert_envelope(alice.post(path, {"prompt": "x", **files}, format="multipart"), 400, "validation_error")
    fields = "&".join(f"f{i}=1" for i in range(1001))
    response = alice.post(path, fields, content_type="application/x-www-form-urlencoded")
    assert_envelope(response, 400, "validation_error")
    _nothing_happened(alice, before)


def test_a_genuine_upload_still_works(alice):
    """The refusals above are not a route refusing everything."""
    image = _file(png(picture(64, 64)), "ok.png")
    response = alice.post(
        "/api/generate",
        {"prompt": "a lighthouse", "model": "local-img2img", "sync_mode": "false", "image": image},
        format="multipart",
    )
    assert response.status_code in (201, 202), response.content
