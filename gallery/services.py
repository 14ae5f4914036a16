from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from gallery.models import Asset


def asset_create(
    *,
    owner,
    data: bytes,
    format: str,
    width: int,
    height: int,
    generation=None,
    prompt: str = "",
    model: str = "",
    seed: int | None = None,
    type: str = Asset.Type.IMAGE,
) -> Asset:
    """Stores the file first and the row second, so a row never points at a missing file.

    If saving the row fails the file is removed again.
    """
    asset = Asset(
        owner=owner,
        generation=generation,
        type=type,
        width=width,
        height=height,
        format=format,
        file_size=len(data),
        prompt=prompt,
        model=model,
        seed=seed,
        created_at=timezone.now(),
    )
    asset.file.save(f"{asset.id}.{format}", ContentFile(data), save=False)
    try:
        asset.save(force_insert=True)
    except Exception:
        asset.file.storage.delete(asset.file.name)
        raise
    return asset


def asset_delete(*, asset: Asset) -> None:
    """Deletes the row, then the file once the deletion is committed."""
    storage, name = asset.file.storage, asset.file.name
    asset.delete()
    transaction.on_commit(lambda: storage.delete(name))
