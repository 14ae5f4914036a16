import io
import logging
import re
from functools import partial

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.selectors import user_preference
from core.errors import Conflict, NotFound, ProviderError, ValidationFailed
from core.task_messages import task_send
from gallery.imaging import CONVERTIBLE, convert, local_path, thumbnail_from_image, video_first_frame
from gallery.models import Asset, Collection
from gallery.provenance import (
    EMBEDDABLE,
    content_credentials_derive,
    content_credentials_sign,
    metadata_embed,
    signing_enabled,
)
from gallery.provenance.privacy import metadata_without_prompts
from gallery.video import NotAVideo, video_probe

logger = logging.getLogger(__name__)


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
    style: str = "",
    seed: int | None = None,
    type: str = Asset.Type.IMAGE,
    duration: float | None = None,
    collection: Collection | None = None,
    is_nsfw: bool = False,
    metadata: dict | None = None,
    ingredient: bytes | None = None,
) -> Asset:
    """Stores the file first and the row second, so a row never points at a missing file.

    If saving the row fails the file is removed again. The thumbnail is made by a task once the
    row is committed. A video's size and duration are read from the file itself, whatever the
    provider said. ``metadata`` (what made the image, see gallery.provenance) goes inside an
    image's file, which is then signed with content credentials when a signer is configured;
    ``ingredient`` is the input image of an image-to-image or inpainting generation.
    """
    if metadata and type == Asset.Type.IMAGE and format in EMBEDDABLE:
        data = _with_metadata(data, format=format, metadata=metadata)
        data = _with_credentials(data, format=format, metadata=metadata, ingredient=ingredient)
    if type == Asset.Type.VIDEO:
        try:
            info = video_probe(data, suffix=f".{format}")
        except NotAVideo as exc:
            raise ProviderError("The provider's video could not be read", details=str(exc)[:500]) from exc
        width, height, duration = info.width, info.height, info.duration if info.duration else duration
    asset = Asset(
        owner=owner,
        # A team's generation makes the team's assets.
        team_id=generation.team_id if generation is not None else None,
        generation=generation,
        collection=collection,
        type=type,
        width=width,
        height=height,
        duration=duration,
        format=format,
        file_size=len(data),
        prompt=prompt,
        model=model,
        style=style,
        seed=seed,
        is_nsfw=is_nsfw,
        created_at=timezone.now(),
    )
    asset.file.save(f"{asset.id}.{format}", ContentFile(data), save=False)
    try:
        asset.save(force_insert=True)
    except Exception:
        asset.file.storage.delete(asset.file.name)
        raise
    transaction.on_commit(partial(_enqueue_thumbnail, asset_id=asset.pk))
    return asset


def _with_metadata(data: bytes, *, format: str, metadata: dict) -> bytes:
    try:
        return metadata_embed(data, format, metadata)
    except ValueError:
        # A file whose structure we cannot follow is kept as the provider made it: losing the
        # image the user paid for would be worse than losing its metadata.
        logger.exception("Could not write the metadata into a %s file", format)
        return data


def _with_credentials(data: bytes, *, format: str, metadata: dict, ingredient: bytes | None) -> bytes:
    if not signing_enabled():
        return data
    try:
        return content_credentials_sign(data, format, metadata=metadata, ingredient=ingredient)
    except Exception:  # noqa: BLE001 - the SDK's errors, a missing or refused certificate
        # Stored unsigned rather than lost, as with the metadata; the log says why.
        logger.exception("Could not sign a %s file with content credentials", format)
        return data


def _derived_signed(data: bytes, *, format: str, original: bytes, action: str, title: str) -> bytes:
    """A file made from a stored one (a conversion, a copy without prompts) signed again, the
    original its parent; unsigned without a signer."""
    if not signing_enabled():
        return data
    try:
        return content_credentials_derive(data, format, original=original, action=action, title=title)
    except Exception:  # noqa: BLE001 - see _with_credentials
        logger.exception("Could not sign a %s file made from a stored one (%s)", format, action)
        return data


def _enqueue_thumbnail(*, asset_id) -> None:
    try:
        # By name: the tasks module calls these services, not the other way round.
        task_send("gallery.asset_thumbnail_create", args=[str(asset_id)])
    except Exception:
        # A broker outage must not fail the request that stored the asset; the
        # `gallery_rebuild_thumbnails` command makes whatever is missing.
        logger.exception("Could not enqueue the thumbnail of asset %s", asset_id)


def asset_thumbnail_build(*, asset: Asset) -> Asset:
    """Makes the asset's WebP thumbnail (a video's from its first frame) and saves it."""
    size, quality = settings.ATELIER_THUMBNAIL_SIZE, settings.ATELIER_THUMBNAIL_QUALITY
    duration = asset.duration
    if asset.type == Asset.Type.VIDEO:
        with local_path(asset.file, suffix=f".{asset.format}") as path:
            frame, duration = video_first_frame(path)
        source = io.BytesIO()
        frame.save(source, "PNG", compress_level=0)
        source.seek(0)
        data = thumbnail_from_image(source, size=size, quality=quality)
    else:
        with asset.file.open("rb") as source:
            data = thumbnail_from_image(source, size=size, quality=quality)
    old = asset.thumbnail.name
    asset.thumbnail.save(f"{asset.id}.webp", ContentFile(data), save=False)
    updated = Asset.objects.filter(pk=asset.pk).update(thumbnail=asset.thumbnail.name, duration=duration)
    storage = asset.thumbnail.storage
    if not updated:
        # The asset was deleted meanwhile: do not leave its thumbnail behind.
        storage.delete(asset.thumbnail.name)
    elif old and old != asset.thumbnail.name:
        storage.delete(old)
    asset.duration = duration
    return asset


def _derived_names(asset: Asset) -> list[str]:
    conversions = [conversion_name(asset=asset, format=fmt) for fmt in CONVERTIBLE if fmt != asset.format]
    return [*conversions, shared_name(asset=asset)]


def conversion_name(*, asset: Asset, format: str) -> str:
    return f"conversions/{asset.owner_id}/{asset.id}.{format}"


def asset_delete(*, asset: Asset) -> None:
    """Deletes the row; its files go once that is committed (asset_files_forget)."""
    asset.delete()


def asset_files_forget(*, asset: Asset) -> None:
    """Removes an asset's files (original, thumbnail, conversions) once its deletion commits.

    Connected to the model's post_delete, so the files also go when the asset goes with its
    owner (a user deleted in the admin) or its generation.
    """
    names = [asset.file.name, asset.thumbnail.name, *_derived_names(asset)]
    transaction.on_commit(partial(_delete_files, storage=asset.file.storage, names=[n for n in names if n]))


def _delete_files(*, storage, names: list[str]) -> None:
    for name in names:
        try:
            storage.delete(name)
        except Exception:
            logger.exception("Could not delete %s from storage", name)


def asset_update(*, asset: Asset, data: dict) -> Asset:
    """Changes the owner-editable flags and the asset's collection (which must be the owner's)."""
    fields = []
    for name in ("is_favorited", "is_public"):
        if name in data:
            setattr(asset, name, bool(data[name]))
            fields.append(name)
    if "share_prompt_metadata" in data:
        # None: the owner's preference decides again.
        value = data["share_prompt_metadata"]
        asset.share_prompt_metadata = None if value is None else bool(value)
        fields.append("share_prompt_metadata")
    if "collection" in data:
        asset.collection = _owned_collection(owner=asset.owner, collection_id=data["collection"], team_id=asset.team_id)
        fields.append("collection")
    if fields:
        asset.save(update_fields=[*fields, "updated_at"])
    return asset


def _owned_collection(*, owner, collection_id, team_id=None) -> Collection | None:
    """The collection an asset may go in: of its space (the owner's, or the asset's team's)."""
    if collection_id in (None, ""):
        return None
    space = {"team_id": team_id} if team_id is not None else {"owner": owner, "team__isnull": True}
    collection = Collection.objects.filter(**space, pk=collection_id).first()
    if collection is None:
        raise ValidationFailed("Unknown collection", details={"collection": ["No such collection."]})
    return collection


def asset_download(*, asset: Asset, format: str | None) -> tuple:
    """The file to send for a download in ``format`` and its file name.

    Conversions are stored beside the original on first request and reused afterwards.
    """
    fmt = (format or asset.format).lower()
    fmt = "jpeg" if fmt == "jpg" else fmt
    name = download_filename(asset=asset, format=fmt)
    if fmt == asset.format:
        return asset.file.storage.open(asset.file.name, "rb"), name
    if asset.type == Asset.Type.VIDEO or fmt not in CONVERTIBLE:
        allowed = [asset.format] if asset.type == Asset.Type.VIDEO else sorted(CONVERTIBLE)
        raise ValidationFailed(
            "Unsupported download format", details={"format": [f"Choose one of: {', '.join(allowed)}."]}
        )
    storage = asset.file.storage
    target = conversion_name(asset=asset, format=fmt)
    if not storage.exists(target):
        with asset.file.open("rb") as source:
            original = source.read()
        data = convert(io.BytesIO(original), to=fmt)
        if asset.type == Asset.Type.IMAGE and fmt in EMBEDDABLE:
            data = _derived_signed(
                data, format=fmt, original=original, action="c2pa.transcoded", title=f"Converted to {fmt.upper()}"
            )
        saved = storage.save(target, ContentFile(data))
        if saved != target:
            # Another request converted it at the same time; keep one copy.
            storage.delete(saved)
    return storage.open(target, "rb"), name


def shared_name(*, asset: Asset) -> str:
    return f"conversions/{asset.owner_id}/{asset.id}.shared.{asset.format}"


def asset_shares_prompts(*, asset: Asset) -> bool:
    """Whether the asset's share link serves its prompts: its own choice, else its owner's."""
    if asset.share_prompt_metadata is not None:
        return asset.share_prompt_metadata
    return user_preference(user=asset.owner, name="share_prompt_metadata")


def asset_shared_file(*, asset: Asset) -> str:
    """The stored name of the file a public share link serves: the original when it shares its
    prompts (``asset_shares_prompts``) or it is a video, else a copy whose metadata has no
    prompt and negative prompt, made on first request and reused afterwards."""
    if asset.type != Asset.Type.IMAGE or asset.format not in EMBEDDABLE:
        return asset.file.name
    if asset_shares_prompts(asset=asset):
        return asset.file.name
    storage, target = asset.file.storage, shared_name(asset=asset)
    if not storage.exists(target):
        with asset.file.open("rb") as source:
            original = source.read()
        try:
            data = metadata_without_prompts(original, asset.format)
        except (OSError, ValueError, SyntaxError):
            # A file whose structure we cannot follow is not shared with whatever it may hold.
            logger.exception("Could not take the prompts out of asset %s", asset.pk)
            raise NotFound("Asset not found") from None
        if data != original:
            # Its content credentials were bound to the bytes that changed: signed again, the
            # original its parent, as a conversion is.
            data = _derived_signed(
                data,
                format=asset.format,
                original=original,
                action="c2pa.edited.metadata",
                title="Shared copy without prompts",
            )
        saved = storage.save(target, ContentFile(data))
        if saved != target:
            # Another request made it at the same time; keep one copy.
            storage.delete(saved)
    return target


def download_filename(*, asset: Asset, format: str) -> str:
    words = slugify(re.sub(r"\s+", " ", asset.prompt)[:60]).strip("-")[:48].rstrip("-")
    return f"{words or 'atelier'}-{str(asset.id)[:8]}.{format}"


def _collection_space(*, owner, team_id) -> dict:
    return {"team_id": team_id} if team_id is not None else {"owner": owner, "team__isnull": True}


def collection_create(*, owner, name: str, description: str = "", team=None) -> Collection:
    """A new collection of the owner's, or of ``team`` (made by ``owner``, a member)."""
    name = name.strip()
    if Collection.objects.filter(
        **_collection_space(owner=owner, team_id=getattr(team, "pk", None)), name=name
    ).exists():
        raise Conflict("A collection with this name already exists", details={"name": ["Already used."]})
    return Collection.objects.create(owner=owner, team=team, name=name, description=description)


def collection_update(*, collection: Collection, data: dict) -> Collection:
    if "name" in data:
        name = data["name"].strip()
        space = _collection_space(owner=collection.owner, team_id=collection.team_id)
        clash = Collection.objects.filter(**space, name=name).exclude(pk=collection.pk)
        if clash.exists():
            raise Conflict("A collection with this name already exists", details={"name": ["Already used."]})
        collection.name = name
    if "description" in data:
        collection.description = data["description"]
    collection.save()
    return collection


def collection_delete(*, collection: Collection) -> None:
    """Deletes the collection; its assets stay in the gallery."""
    collection.delete()


def collection_assets_add(*, collection: Collection, asset_ids: list) -> int:
    # Only assets of the collection's space: nothing moves between spaces.
    space = _collection_space(owner=collection.owner, team_id=collection.team_id)
    assets = Asset.objects.filter(**space, pk__in=asset_ids)
    found = set(assets.values_list("pk", flat=True))
    missing = [str(a) for a in asset_ids if a not in found]
    if missing:
        raise NotFound("Asset not found", details={"asset_ids": missing})
    return assets.update(collection=collection, updated_at=timezone.now())


def collection_assets_remove(*, collection: Collection, asset_ids: list) -> int:
    assets = Asset.objects.filter(collection=collection, pk__in=asset_ids)
    return assets.update(collection=None, updated_at=timezone.now())
