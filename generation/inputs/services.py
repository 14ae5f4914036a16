"""Reading a generation's input image and mask (uploads or URLs), and keeping them with it."""

from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile

from catalog.models import AIModel, ModelKind
from core.errors import UrlRefused, ValidationFailed
from core.url_fetch import fetch_public_url
from generation.inputs.kinds import IMAGE_KINDS, MASK_KINDS
from generation.inputs.masks import mask_normalise
from generation.inputs.uploads import ACCEPTED_URL_CONTENT_TYPES, NormalisedImage, image_normalise, invalid
from generation.models import Generation, GenerationInput


@dataclass(frozen=True)
class PreparedInputs:
    image: NormalisedImage | None = None
    mask: NormalisedImage | None = None

    @property
    def any(self) -> bool:
        return self.image is not None or self.mask is not None

    def output_size(self, *, kind: str, upscale_factor: int) -> tuple[int, int] | None:
        if self.image is None:
            return None
        if kind == ModelKind.UPSCALE:
            return self.image.width * upscale_factor, self.image.height * upscale_factor
        return self.image.width, self.image.height


def _upload_bytes(upload, *, field: str) -> bytes:
    limit = settings.ATELIER_UPLOAD_MAX_IMAGE_BYTES
    # Refused by its size before it is read into memory.
    if upload.size is not None and upload.size > limit:
        raise invalid(field, f"The file is larger than {limit // (1024 * 1024)} MB.")
    upload.seek(0)
    return upload.read(limit + 1)


def _fetch(url: str, *, field: str) -> bytes:
    try:
        return fetch_public_url(
            url,
            max_bytes=settings.ATELIER_UPLOAD_MAX_IMAGE_BYTES,
            allowed_content_types=ACCEPTED_URL_CONTENT_TYPES,
        ).data
    except UrlRefused as exc:
        raise UrlRefused(exc.message, details={field: [exc.message]}) from exc


def _source(data: dict, *, name: str) -> tuple[bytes, str, str] | None:
    """(bytes, source URL, field name) of the ``image``/``mask`` file or ``…_url``, or None."""
    upload, url = data.get(name), (data.get(f"{name}_url") or "").strip()
    if upload is not None:
        return _upload_bytes(upload, field=name), "", name
    if url:
        return _fetch(url, field=f"{name}_url"), url, f"{name}_url"
    return None


def _stored(*, user, generation_id) -> dict[str, tuple[bytes, str, str]]:
    """The inputs of one of the user's own generations, as sources; 400 if it is not theirs."""
    if not Generation.objects.filter(pk=generation_id, user=user).exists():
        raise ValidationFailed("Unknown generation", details={"inputs_from": ["No such generation."]})
    sources = {}
    for row in GenerationInput.objects.filter(generation_id=generation_id):
        with row.file.open("rb") as handle:
            sources[row.role] = (handle.read(), row.source_url, "inputs_from")
    return sources


def _as_url_refusal(error: ValidationFailed, *, field: str) -> UrlRefused:
    messages = (error.details or {}).get(field) or [error.message]
    return UrlRefused(messages[0], details={field: messages})


def generation_inputs_prepare(
    *, user, model: AIModel, data: dict, size: tuple[int, int] | None, upscale_factor: int = 2
) -> PreparedInputs:
    """Fetches or reads the inputs the model's kind takes and normalises them for the provider.

    ``size`` is the output size the request asked for explicitly (None: follow the image). The
    image is fitted to the model's limits; an upscaler's limits are its output's, so its input
    must fit them divided by the factor. ``inputs_from`` reuses the stored inputs of one of the
    user's generations (files and URLs sent with it take precedence). Nothing here is stored or
    charged.
    """
    if model.kind not in IMAGE_KINDS:
        return PreparedInputs()
    reused = _stored(user=user, generation_id=data["inputs_from"]) if data.get("inputs_from") else {}
    source = _source(data, name="image") or reused.get("image")
    if source is None:
        if data.get("inputs_from"):
            raise ValidationFailed(details={"inputs_from": ["That generation has no input image."]})
        return PreparedInputs()
    factor = upscale_factor if model.kind == ModelKind.UPSCALE else 1
    limits = {
        "min_width": max(1, -(-model.min_width // factor)),
        "max_width": max(1, model.max_width // factor),
        "min_height": max(1, -(-model.min_height // factor)),
        "max_height": max(1, model.max_height // factor),
    }
    raw, url, field = source
    try:
        image = image_normalise(
            raw,
            field=field,
            size=None if model.kind == ModelKind.UPSCALE else size,
            limits=limits,
            even=model.kind == ModelKind.IMAGE_TO_VIDEO,
            source_url=url,
        )
    except ValidationFailed as exc:
        if field.endswith("_url"):
            raise _as_url_refusal(exc, field=field) from exc
        raise
    mask = None
    if model.kind in MASK_KINDS:
        mask_source = _source(data, name="mask") or reused.get("mask")
        if mask_source is None and data.get("inputs_from"):
            raise ValidationFailed(details={"mask": ["That generation has no mask: send one."]})
        if mask_source is not None:
            raw, url, field = mask_source
            try:
                mask = mask_normalise(raw, field=field, image=image, source_url=url)
            except ValidationFailed as exc:
                if field.endswith("_url"):
                    raise _as_url_refusal(exc, field=field) from exc
                raise
    return PreparedInputs(image=image, mask=mask)


def generation_inputs_store(*, generation: Generation, inputs: PreparedInputs) -> list[GenerationInput]:
    """Keeps the normalised inputs with the generation (private files, not gallery assets).

    Called inside the transaction that creates the generation; a row that fails to save takes
    its file with it.
    """
    stored = []
    for role, item in ((GenerationInput.Role.IMAGE, inputs.image), (GenerationInput.Role.MASK, inputs.mask)):
        if item is None:
            continue
        row = GenerationInput(
            generation=generation,
            role=role,
            width=item.width,
            height=item.height,
            content_type=item.content_type,
            file_size=len(item.data),
            sha256=item.sha256,
            source_url=item.source_url[:2048],
        )
        row.file.save(f"{role}.png", ContentFile(item.data), save=False)
        try:
            row.save(force_insert=True)
        except Exception:
            row.file.storage.delete(row.file.name)
            raise
        stored.append(row)
    return stored
