"""Files leave storage with their rows: an asset deleted through the API, and every asset and
input image of a user erased with their data (the admin only deactivates users, since their
ledger is append-only; erasing is done from the shell or a data-erasure script)."""

import pytest

from gallery.models import Asset
from generation.models import GenerationInput
from tests.inputs.conftest import picture, png, upload

pytestmark = pytest.mark.django_db


def _stored(field) -> bool:
    return field.storage.exists(field.name)


def test_erasing_a_user_removes_their_files(alice, django_capture_on_commit_callbacks):
    response = alice.post(
        "/api/generate",
        {"model": "local-img2img", "image": upload(png(picture(96, 64))), "strength": 0.5, "sync_mode": "false"},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    asset = Asset.objects.get(generation_id=response.json()["generation"]["id"])
    source = GenerationInput.objects.get(generation_id=asset.generation_id)
    assert _stored(asset.file) and _stored(source.file)

    with django_capture_on_commit_callbacks(execute=True):
        alice.user.delete()

    assert not Asset.objects.filter(pk=asset.pk).exists()
    assert not _stored(asset.file)
    assert not _stored(source.file)
    if asset.thumbnail:
        assert not _stored(asset.thumbnail)


def test_an_asset_deleted_through_the_api_takes_its_file_along(alice, django_capture_on_commit_callbacks):
    from tests.helpers import generate_done

    image = generate_done(alice, width=64, height=64)["images"][0]
    asset = Asset.objects.get(pk=image["id"])
    assert _stored(asset.file)
    with django_capture_on_commit_callbacks(execute=True):
        assert alice.delete(f"/api/gallery/{asset.pk}").status_code == 200
    assert not _stored(asset.file)
