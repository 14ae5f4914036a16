"""What only S3 has: pre-signed URLs for private files, and objects in a bucket."""

import urllib.error
import urllib.parse
import urllib.request

import pytest

from gallery.models import Asset
from tests.gallery.conftest import BUCKET, make_asset, png_bytes, use_s3


@pytest.fixture
def s3(settings, s3_server):
    use_s3(settings, s3_server)
    return s3_server


def _expires_in(url: str) -> int:
    query = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)
    if "X-Amz-Expires" in query:
        return int(query["X-Amz-Expires"][0])
    import time

    return int(query["Expires"][0]) - int(time.time())


def test_private_files_are_served_by_short_lived_presigned_urls(alice, s3, settings):
    settings.ATELIER_PRESIGNED_URL_EXPIRE = 120
    data = png_bytes()
    asset = make_asset(alice.user, data=data)
    response = alice.get(f"/api/gallery/{asset.id}/file")
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(s3["endpoint"])
    assert 100 <= _expires_in(location) <= 120
    with urllib.request.urlopen(location, timeout=10) as answer:  # noqa: S310 - loopback S3
        assert answer.read() == data
    unsigned = location.split("?")[0]
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(unsigned, timeout=10)  # noqa: S310 - loopback S3
    assert refused.value.code == 403


def test_files_live_in_the_bucket_and_leave_it_on_delete(alice, s3):
    asset = make_asset(alice.user)
    thumbnail = Asset.objects.get(pk=asset.pk).thumbnail.name
    keys = {o["Key"] for o in s3["client"].list_objects_v2(Bucket=BUCKET).get("Contents", [])}
    assert {asset.file.name, thumbnail} <= keys
    alice.delete(f"/api/gallery/{asset.id}")
    keys = {o["Key"] for o in s3["client"].list_objects_v2(Bucket=BUCKET).get("Contents", [])}
    assert not {asset.file.name, thumbnail} & keys
