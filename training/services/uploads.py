"""Training datasets: the plan's limits, an upload checked and stored, the dataset a start names."""

from __future__ import annotations

from django.conf import settings
from django.core.files.base import ContentFile

from core.errors import NotFound, PayloadTooLarge, ValidationFailed
from credits.selectors import plan_for_user
from training import datasets, selectors
from training.models import TrainingDataset


def dataset_limits(*, user) -> datasets.Limits:
    plan = plan_for_user(user=user)
    by_plan = settings.ATELIER_TRAINING_MAX_IMAGES_BY_PLAN
    return datasets.Limits(
        max_images=by_plan.get(plan.slug, settings.ATELIER_TRAINING_MAX_IMAGES),
        max_total_bytes=plan.max_upload_bytes,
        min_images=settings.ATELIER_TRAINING_MIN_IMAGES,
        min_side=settings.ATELIER_TRAINING_MIN_IMAGE_SIDE,
        max_image_bytes=settings.ATELIER_UPLOAD_MAX_IMAGE_BYTES,
    )


def dataset_upload_size_check(*, user, content_length: int) -> None:
    """Refuses (413) an upload whose body is larger than the plan allows, before it is read."""
    plan_limit = dataset_limits(user=user).max_total_bytes
    if content_length > plan_limit + settings.ATELIER_UPLOAD_MAX_FORM_OVERHEAD_BYTES:
        raise PayloadTooLarge(details=f"The upload is {content_length} bytes; your plan allows {plan_limit}.")


def dataset_upload(*, user, files: list, zips: list) -> TrainingDataset:
    """Seed 004's upload: image files (with optional .txt captions), or one zip, not both.
    ``files`` may hold the zip too, recognised by its name; ``zips`` are parts sent as ``zip``."""
    zips = [upload for upload in files if (upload.name or "").lower().endswith(".zip")] + list(zips)
    if not zips:
        return dataset_create(user=user, files=files)
    if len(files) > len(zips) or len(zips) > 1:
        raise ValidationFailed(details={"files": ["Send one zip, or image files, not both."]})
    return dataset_create(user=user, zip_data=zips[0].read())


def dataset_create(*, user, files: list | None = None, zip_data: bytes | None = None) -> TrainingDataset:
    """Checks an upload (image files with optional .txt captions, or one zip) and stores it."""
    limits = dataset_limits(user=user)
    warnings: list[str] = []
    if zip_data is not None:
        if len(zip_data) > limits.max_total_bytes:
            raise PayloadTooLarge(
                details=f"The zip is {len(zip_data)} bytes; your plan allows {limits.max_total_bytes}."
            )
        entries, warnings = datasets.zip_entries(zip_data, limits=limits)
    else:
        entries = []
        total = 0
        for upload in files or []:
            total += upload.size or 0
            if total > limits.max_total_bytes:
                raise PayloadTooLarge(details=f"The files total more than your plan's {limits.max_total_bytes} bytes.")
            if (upload.size or 0) > limits.max_image_bytes:
                raise ValidationFailed(
                    "Some files cannot be used for training",
                    details={"files": {upload.name: [f"Refused: larger than {limits.max_image_bytes} bytes."]}},
                )
            entries.append(datasets.Entry(name=upload.name or "upload", data=upload.read()))
        if not entries:
            raise ValidationFailed(
                details={"files": ["Send image files as files[] (with optional .txt captions) or one zip."]}
            )
    checked = datasets.dataset_check(entries, limits=limits, warnings=warnings)
    dataset = TrainingDataset(
        user=user,
        image_count=len(checked.images),
        total_size=checked.total_size,
        manifest=[
            {
                "name": image.name,
                "width": image.width,
                "height": image.height,
                "sha256": image.sha256,
                "caption": image.caption,
            }
            for image in checked.images
        ],
        warnings=checked.warnings,
    )
    dataset.archive.save(f"{dataset.pk}.zip", ContentFile(datasets.archive_bytes(checked)), save=False)
    dataset.save()
    return dataset


def dataset_for_training(*, user, dataset_id=None, images_data_url: str = "") -> TrainingDataset:
    """The dataset a start names: by ``dataset_id``, by the ``images_data_url`` the upload
    answered, or stored on the spot from a ``data:`` URL (seed 004). Another user's is not found."""
    if not dataset_id:
        url = (images_data_url or "").strip()
        dataset_id = datasets.dataset_id_from_url(url)
        if dataset_id is None:
            if not url.startswith("data:"):
                hint = "Give the images_data_url or dataset_id that /api/training/upload answered."
                raise ValidationFailed(details={"images_data_url": [hint]})
            zip_data = datasets.data_url_bytes(url, limit=dataset_limits(user=user).max_total_bytes)
            return dataset_create(user=user, zip_data=zip_data)
    dataset = selectors.dataset_get(user=user, dataset_id=dataset_id)
    if dataset is None:
        raise NotFound("Dataset not found")
    return dataset
