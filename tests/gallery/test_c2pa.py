"""Content credentials (C2PA): every stored image and every conversion is signed with the
configured signer, and read back, validated, by the provenance endpoints. The files are checked
with ``c2pa.Reader`` itself, trusting only the test root the management command made."""

import io
import json
import struct
import zlib
from pathlib import Path

import c2pa
import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from PIL import Image

from tests.gallery.conftest import body_of
from tests.helpers import LOCAL_MODEL, assert_envelope, generate_done

pytestmark = pytest.mark.django_db

PROMPT = "a lighthouse in a storm"
AI_MADE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
MIME = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}


@pytest.fixture(scope="session")
def test_signer(tmp_path_factory) -> dict:
    """The test CA and signer, made once by the management command ``make run`` uses."""
    folder = tmp_path_factory.mktemp("c2pa")
    out = io.StringIO()
    call_command("c2pa_test_signer", "--dir", str(folder), stdout=out)
    return dict(line.split("=", 1) for line in out.getvalue().split())


@pytest.fixture
def signing(settings, test_signer):
    settings.ATELIER_C2PA_CERT = test_signer["ATELIER_C2PA_CERT"]
    settings.ATELIER_C2PA_KEY = test_signer["ATELIER_C2PA_KEY"]
    settings.ATELIER_C2PA_TRUST_ANCHORS = test_signer["ATELIER_C2PA_TRUST_ANCHORS"]
    return test_signer


def _manifest_store(data: bytes, *, trust: str | None) -> dict:
    """What ``c2pa.Reader`` says of a file, trusting ``trust`` (a PEM file) as a root, or nothing."""
    fmt = Image.open(io.BytesIO(data)).format
    config = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}}
    if trust:
        config["trust"] = {"user_anchors": Path(trust).read_text()}
    with c2pa.Context.from_dict(config) as context, c2pa.Reader(MIME[fmt], io.BytesIO(data), None, context) as reader:
        return json.loads(reader.json())


def _active(store: dict) -> dict:
    return store["manifests"][store["active_manifest"]]


def _actions(manifest: dict) -> list[dict]:
    return [
        action
        for assertion in manifest["assertions"]
        if assertion["label"].startswith("c2pa.actions")
        for action in assertion["data"]["actions"]
    ]


def _generated(client, fmt: str) -> dict:
    return generate_done(client, prompt=PROMPT, width=96, height=64, seed=11, format=fmt)


def _download(client, generation: dict, fmt: str | None = None) -> bytes:
    query = {"format": fmt} if fmt else {}
    return body_of(client.get(f"/api/gallery/{generation['images'][0]['id']}/download", query))


@pytest.mark.parametrize("fmt, pil_format", [("png", "PNG"), ("jpeg", "JPEG"), ("webp", "WEBP")])
def test_a_downloaded_output_carries_its_metadata_and_a_manifest_the_test_root_validates(
    alice, signing, fmt, pil_format
):
    generation = _generated(alice, fmt)

    data = _download(alice, generation)

    image = Image.open(io.BytesIO(data))
    assert image.format == pil_format
    text = image.text["atelier"] if pil_format == "PNG" else image.info["xmp"].decode()
    assert PROMPT in text and generation["id"] in text
    store = _manifest_store(data, trust=signing["ATELIER_C2PA_TRUST_ANCHORS"])
    assert store["validation_state"] == "Trusted", store.get("validation_results")
    manifest = _active(store)
    assert manifest["claim_generator_info"][0]["name"] == "Atelier"
    assert manifest["claim_generator_info"][0]["version"]
    assert manifest["signature_info"]["alg"].lower() == "es256"
    [created] = _actions(manifest)
    assert created["action"] == "c2pa.created"
    assert created["digitalSourceType"] == AI_MADE
    assert created["softwareAgent"]["name"] == LOCAL_MODEL
    assert not manifest.get("ingredients")


def test_without_the_root_configured_the_signer_reads_as_untrusted(alice, signing):
    data = _download(alice, _generated(alice, "png"))

    store = _manifest_store(data, trust=None)

    failures = [item["code"] for item in store["validation_results"]["activeManifest"]["failure"]]
    assert failures == ["signingCredential.untrusted"]


def test_an_image_to_image_output_is_edited_from_its_input(alice, signing):
    from tests.inputs.conftest import picture, png, upload

    source = png(picture(80, 60))
    response = alice.post(
        "/api/generate",
        {"sync_mode": "false", "model": "local-img2img", "prompt": "ocean", "image": upload(source)},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    generation = alice.get(f"/api/generate/{response.json()['generation']['id']}").json()["generation"]

    store = _manifest_store(_download(alice, generation), trust=signing["ATELIER_C2PA_TRUST_ANCHORS"])

    assert store["validation_state"] == "Trusted", store.get("validation_results")
    manifest = _active(store)
    assert [action["action"] for action in _actions(manifest)] == ["c2pa.opened", "c2pa.edited"]
    edited = _actions(manifest)[1]
    assert edited["digitalSourceType"] == AI_MADE
    assert edited["softwareAgent"]["name"] == "local/image-to-image"
    [ingredient] = manifest["ingredients"]
    assert (ingredient["relationship"], ingredient["format"]) == ("parentOf", "image/png")

    provenance = alice.get(f"/api/gallery/{generation['images'][0]['id']}/provenance").json()["provenance"]
    credentials = provenance["content_credentials"]
    assert credentials["state"] == "valid"
    assert [action["action"] for action in credentials["actions"]] == ["c2pa.opened", "c2pa.edited"]
    assert credentials["ingredients"][0]["relationship"] == "parentOf"


@pytest.mark.parametrize("original, wanted", [("png", "jpeg"), ("jpeg", "webp"), ("webp", "png")])
def test_a_conversion_is_signed_again_with_the_original_as_its_parent(alice, signing, original, wanted):
    generation = _generated(alice, original)
    stored = _download(alice, generation)

    converted = _download(alice, generation, wanted)

    assert converted != stored
    store = _manifest_store(converted, trust=signing["ATELIER_C2PA_TRUST_ANCHORS"])
    assert store["validation_state"] == "Trusted", store.get("validation_results")
    manifest = _active(store)
    assert [action["action"] for action in _actions(manifest)] == ["c2pa.opened", "c2pa.transcoded"]
    [parent] = manifest["ingredients"]
    assert parent["relationship"] == "parentOf"
    # The original's own manifest travels inside, so the conversion still says how it was made.
    assert _actions(store["manifests"][parent["active_manifest"]])[0]["digitalSourceType"] == AI_MADE
    upload = SimpleUploadedFile(f"converted.{wanted}", converted)
    provenance = alice.post("/api/provenance/verify", {"file": upload}, format="multipart").json()["provenance"]
    assert provenance["atelier"]["prompt"] == PROMPT
    credentials = provenance["content_credentials"]
    assert (credentials["state"], credentials["digital_source_type"]) == ("valid", AI_MADE)
    assert credentials["software_agent"].startswith(LOCAL_MODEL)


def test_the_provenance_endpoint_sums_up_the_manifest_for_its_owner_only(alice, bob, signing):
    generation = _generated(alice, "webp")
    url = f"/api/gallery/{generation['images'][0]['id']}/provenance"

    response = alice.get(url)

    assert response.status_code == 200, response.content
    credentials = response.json()["provenance"]["content_credentials"]
    assert (credentials["present"], credentials["state"], credentials["status"]) == (True, "valid", [])
    assert credentials["claim_generator"].startswith("Atelier ")
    assert [action["action"] for action in credentials["actions"]] == ["c2pa.created"]
    assert credentials["digital_source_type"] == AI_MADE
    assert credentials["software_agent"].startswith(LOCAL_MODEL)
    assert credentials["ingredients"] == []
    assert (credentials["signer"], credentials["issuer"]) == ("Atelier test signer", "Atelier (test only)")
    assert credentials["signed_at"]
    assert_envelope(bob.get(url), 404, "not_found")


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    chunks, position = [], 8
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        chunks.append((data[position + 4 : position + 8], data[position + 8 : position + 8 + length]))
        position += 12 + length
    return chunks


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _with_pixels_changed(signed: bytes) -> bytes:
    """The signed PNG with one pixel painted over and every other chunk (the manifest's, the
    metadata's) left as it was: what an edit that keeps the credentials looks like."""
    image = Image.open(io.BytesIO(signed))
    image.load()
    image.putpixel((3, 3), (255, 0, 255, 255)[: len(image.getbands())])
    repainted = io.BytesIO()
    image.save(repainted, "PNG")
    pixels = b"".join(_chunk(kind, body) for kind, body in _png_chunks(repainted.getvalue()) if kind == b"IDAT")
    out, placed = [signed[:8]], False
    for kind, body in _png_chunks(signed):
        if kind != b"IDAT":
            out.append(_chunk(kind, body))
        elif not placed:
            out.append(pixels)
            placed = True
    return b"".join(out)


def test_verify_reports_a_file_whose_pixels_were_changed_after_signing(alice, signing):
    signed = _download(alice, _generated(alice, "png"))
    tampered = _with_pixels_changed(signed)
    assert Image.open(io.BytesIO(tampered)).getpixel((3, 3))[:3] == (255, 0, 255)

    upload = SimpleUploadedFile("lighthouse.png", tampered, content_type="image/png")
    response = alice.post("/api/provenance/verify", {"file": upload}, format="multipart")

    assert response.status_code == 200, response.content
    provenance = response.json()["provenance"]
    assert provenance["atelier"]["prompt"] == PROMPT
    credentials = provenance["content_credentials"]
    assert credentials["present"] and credentials["state"] == "invalid"
    assert "assertion.dataHash.mismatch" in [item["code"] for item in credentials["status"]]
    untouched = SimpleUploadedFile("lighthouse.png", signed, content_type="image/png")
    again = alice.post("/api/provenance/verify", {"file": untouched}, format="multipart").json()["provenance"]
    assert again["content_credentials"]["state"] == "valid"


def test_verify_without_trust_anchors_reads_untrusted_with_the_readers_code(alice, signing, settings):
    signed = _download(alice, _generated(alice, "jpeg"))
    settings.ATELIER_C2PA_TRUST_ANCHORS = ""

    upload = SimpleUploadedFile("lighthouse.jpg", signed, content_type="image/jpeg")
    credentials = alice.post("/api/provenance/verify", {"file": upload}, format="multipart").json()["provenance"][
        "content_credentials"
    ]

    assert credentials["state"] == "untrusted"
    assert [item["code"] for item in credentials["status"]] == ["signingCredential.untrusted"]


def test_without_a_signer_outputs_are_stored_unsigned_with_their_metadata(alice, settings):
    settings.ATELIER_C2PA_CERT = settings.ATELIER_C2PA_KEY = ""
    generation = _generated(alice, "png")

    data = _download(alice, generation)
    converted = _download(alice, generation, "jpeg")

    assert PROMPT in Image.open(io.BytesIO(data)).text["atelier"]
    assert PROMPT in Image.open(io.BytesIO(converted)).info["xmp"].decode()
    assert c2pa.Reader.try_create("image/png", io.BytesIO(data)) is None
    provenance = alice.get(f"/api/gallery/{generation['images'][0]['id']}/provenance").json()["provenance"]
    assert provenance["content_credentials"] == {"available": True, "present": False}


def test_the_test_signer_is_what_c2pa_accepts(signing):
    chain = x509.load_pem_x509_certificates(Path(signing["ATELIER_C2PA_CERT"]).read_bytes())
    signer, root = chain
    assert signer.issuer == root.subject
    assert signer.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert signer.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature
    usages = signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.EMAIL_PROTECTION in usages
    signer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    signer.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert Path(signing["ATELIER_C2PA_TRUST_ANCHORS"]).read_bytes() in Path(signing["ATELIER_C2PA_CERT"]).read_bytes()


def test_the_answers_with_credentials_are_as_the_schema_says(alice, anon, signing):
    from tests.ops.test_schema_truth import assert_served_as_documented

    openapi = anon.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    generation = _generated(alice, "png")
    path = next(path for path in openapi["paths"] if path.startswith("/api/gallery/{") and path.endswith("/provenance"))
    assert_served_as_documented(
        openapi, "GET", path, alice.get(f"/api/gallery/{generation['images'][0]['id']}/provenance")
    )
    tampered = SimpleUploadedFile("x.png", _with_pixels_changed(_download(alice, generation)), content_type="image/png")
    verified = alice.post("/api/provenance/verify", {"file": tampered}, format="multipart")
    assert_served_as_documented(openapi, "POST", "/api/provenance/verify", verified)


def _panel(html: str) -> str:
    start = html.index('data-role="content-credentials"')
    return html[start : html.index("</section>", start)]


def test_the_asset_page_and_the_share_page_show_the_content_credentials(alice, anon, signing):
    from gallery.models import Asset
    from tests.helpers import signed_in

    generation = _generated(alice, "png")
    asset = Asset.objects.get(pk=generation["images"][0]["id"])

    panel = _panel(signed_in(alice.user).get(f"/asset/{asset.pk}").content.decode())

    assert 'data-state="valid"' in panel and "Verified" in panel
    assert "an AI model (trained algorithmic media)" in panel
    assert LOCAL_MODEL in panel and "Created" in panel
    assert "Atelier test signer" in panel
    Asset.objects.filter(pk=asset.pk).update(is_public=True)
    shared = anon.get(f"/s/{asset.short_key}", HTTP_ACCEPT="text/html")
    assert shared.status_code == 200
    # The share link serves a copy without prompts, signed again: its panel is that file's.
    panel = _panel(shared.content.decode())
    assert 'data-state="valid"' in panel and "Metadata edited (prompts taken out)" in panel
    assert "an AI model (trained algorithmic media)" in panel and LOCAL_MODEL in panel
    served = body_of(anon.get(f"/s/{asset.short_key}/raw"))
    assert PROMPT not in Image.open(io.BytesIO(served)).text.get("atelier", "")
    store = _manifest_store(served, trust=signing["ATELIER_C2PA_TRUST_ANCHORS"])
    assert store["validation_state"] == "Trusted", store.get("validation_results")
    assert [action["action"] for action in _actions(_active(store))] == ["c2pa.opened", "c2pa.edited.metadata"]


def test_the_panel_says_when_the_stored_file_was_altered_or_never_signed(alice, signing, settings):
    from gallery.models import Asset
    from tests.helpers import signed_in

    generation = _generated(alice, "png")
    asset = Asset.objects.get(pk=generation["images"][0]["id"])
    tampered = _with_pixels_changed(_download(alice, generation))
    with asset.file.storage.open(asset.file.name, "wb") as handle:
        handle.write(tampered)

    panel = _panel(signed_in(alice.user).get(f"/asset/{asset.pk}").content.decode())

    assert 'data-state="invalid"' in panel and "Altered" in panel
    assert "assertion.dataHash.mismatch" in panel
    settings.ATELIER_C2PA_CERT = ""
    unsigned = Asset.objects.get(pk=_generated(alice, "png")["images"][0]["id"])
    panel = _panel(signed_in(alice.user).get(f"/asset/{unsigned.pk}").content.decode())
    assert 'data-state="none"' in panel and "carries no content credentials" in panel


def test_a_signer_that_cannot_sign_leaves_the_output_stored_unsigned(alice, signing, settings, tmp_path, caplog):
    broken = tmp_path / "not-a-key.pem"
    broken.write_text("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    settings.ATELIER_C2PA_KEY = str(broken)

    generation = _generated(alice, "png")

    assert generation["status"] == "completed"
    data = _download(alice, generation)
    assert PROMPT in Image.open(io.BytesIO(data)).text["atelier"]
    assert c2pa.Reader.try_create("image/png", io.BytesIO(data)) is None
    assert "Could not sign a png file with content credentials" in caplog.text


def test_verify_reports_a_manifest_it_cannot_read_and_a_gif_without_one(alice):
    plain = io.BytesIO()
    Image.new("RGB", (20, 20), (9, 9, 9)).save(plain, "PNG")
    data = plain.getvalue()
    garbage = b"jumb" + bytes(range(200))
    chunk = struct.pack(">I", len(garbage)) + b"caBX" + garbage + struct.pack(">I", zlib.crc32(b"caBX" + garbage))
    damaged = data[:33] + chunk + data[33:]

    upload = SimpleUploadedFile("damaged.png", damaged, content_type="image/png")
    credentials = alice.post("/api/provenance/verify", {"file": upload}, format="multipart").json()["provenance"][
        "content_credentials"
    ]

    assert (credentials["present"], credentials["state"]) == (True, "invalid")
    assert [item["code"] for item in credentials["status"]] == ["manifest.unreadable"]
    gif = io.BytesIO()
    Image.new("RGB", (20, 20), (9, 9, 9)).save(gif, "GIF")
    upload = SimpleUploadedFile("plain.gif", gif.getvalue(), content_type="image/gif")
    provenance = alice.post("/api/provenance/verify", {"file": upload}, format="multipart").json()["provenance"]
    assert provenance["content_credentials"] == {"available": True, "present": False}


def test_manage_py_check_says_when_the_configured_signer_cannot_sign(signing, settings):
    from django.core.checks import run_checks

    assert [message.id for message in run_checks(tags=["atelier"])] == []
    # The root alone is no signer's chain: C2PA refuses a self-signed certificate.
    settings.ATELIER_C2PA_CERT = signing["ATELIER_C2PA_TRUST_ANCHORS"]
    settings.ATELIER_C2PA_TRUST_ANCHORS = "/nonexistent/roots.pem"

    found = run_checks(tags=["atelier"])

    assert sorted(message.id for message in found) == ["gallery.W002", "gallery.W003"]
    assert "self-signed" in next(message.msg for message in found if message.id == "gallery.W002")
