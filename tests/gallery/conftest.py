import html
import io
import json
import logging
import os
import re
import tempfile
import urllib.request
from datetime import timedelta

import pytest
from django.test import TestCase
from django.utils import timezone
from PIL import Image

from gallery.models import Asset
from gallery.services import asset_create

BUCKET = "atelier-test"


def png_bytes(width=64, height=48, *, mode="RGBA", color=(200, 30, 30, 128)) -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), color if mode == "RGBA" else color[:3]).save(out, "PNG")
    return out.getvalue()


def opened_image(data: bytes) -> Image.Image:
    """An image file's bytes, decoded (and checked whole) by Pillow."""
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def atelier_metadata(image: Image.Image) -> dict:
    """Atelier's JSON as a reader of the format finds it: a PNG text chunk, or inside the XMP."""
    if image.format == "PNG":
        return json.loads(image.text["atelier"])
    xmp = image.info["xmp"].decode("utf-8")
    found = re.search(r"<atelier:metadata>(.*?)</atelier:metadata>", xmp, re.S)
    return json.loads(html.unescape(found.group(1)))


def mp4_bytes(width=96, height=64, frames=12, fps=12) -> bytes:
    import imageio_ffmpeg

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "clip.mp4")
        writer = imageio_ffmpeg.write_frames(path, (width, height), fps=fps, macro_block_size=1)
        writer.send(None)
        for index in range(frames):
            writer.send(bytes([(index * 20) % 256, 90, 160]) * (width * height))
        writer.close()
        with open(path, "rb") as clip:
            return clip.read()


def make_asset(owner, *, minutes_ago: float | None = None, flags: dict | None = None, **kwargs) -> Asset:
    """An asset stored as a generation would store it, with its on-commit thumbnail task run."""
    kwargs.setdefault("data", png_bytes())
    kwargs.setdefault("format", "png")
    kwargs.setdefault("width", 64)
    kwargs.setdefault("height", 48)
    with TestCase.captureOnCommitCallbacks(execute=True):
        asset = asset_create(owner=owner, **kwargs)
    changes = dict(flags or {})
    if minutes_ago is not None:
        changes["created_at"] = timezone.now() - timedelta(minutes=minutes_ago)
    if changes:
        Asset.objects.filter(pk=asset.pk).update(**changes)
        asset.refresh_from_db()
    return asset


def body_of(response) -> bytes:
    """What a browser ends up with: the streamed file, or the file behind a pre-signed redirect."""
    if response.status_code == 302:
        with urllib.request.urlopen(response["Location"], timeout=10) as answer:  # noqa: S310 - loopback S3
            return answer.read()
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content)


@pytest.fixture(scope="session")
def s3_server():
    """A real S3 protocol server (moto) on loopback, started once for the session."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    import boto3

    client = boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
    )
    client.create_bucket(Bucket=BUCKET)
    yield {"endpoint": endpoint, "client": client}
    server.stop()


def use_s3(settings, server) -> None:
    """Points the default storage at the loopback S3 server, as STORAGE=s3 does in production."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": server["endpoint"],
                "access_key": "test",
                "secret_key": "test",
                "region_name": "us-east-1",
                "addressing_style": "path",
                "default_acl": None,
                "querystring_auth": True,
            },
        },
    }


@pytest.fixture(params=["local", "s3"])
def storage_backend(request, settings):
    """Runs a storage test once on local files and once on S3 (moto), through the same code."""
    if request.param == "s3":
        use_s3(settings, request.getfixturevalue("s3_server"))
    return request.param


@pytest.fixture
def stored(storage_backend):
    """Whether a name exists in the storage under test."""
    from django.core.files.storage import default_storage

    return lambda name: bool(name) and default_storage.exists(name)
