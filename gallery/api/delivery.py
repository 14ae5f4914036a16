"""Sending stored files: streamed from local storage, or a short-lived pre-signed S3 URL."""

from django.conf import settings
from django.http import FileResponse, HttpResponseRedirect

from gallery.models import CONTENT_TYPES


def storage_is_s3(storage) -> bool:
    # Checked by class name so that boto3 (tens of megabytes) is only loaded where S3 is used.
    return any(klass.__name__ == "S3Storage" for klass in storage.__class__.__mro__)


def serve_file(*, storage, name: str, cache: str = "private, max-age=3600"):
    """Answers with the file itself, or on S3 with a redirect to a pre-signed URL.

    The object stays private in the bucket; the redirect carries a signature that expires
    after ``ATELIER_PRESIGNED_URL_EXPIRE`` seconds, and is only handed to whoever the caller
    has already let see the asset.
    """
    if storage_is_s3(storage):
        url = storage.url(name, expire=settings.ATELIER_PRESIGNED_URL_EXPIRE)
        response = HttpResponseRedirect(url)
        response["Cache-Control"] = "private, no-store"
        return response
    extension = name.rsplit(".", 1)[-1].lower()
    response = FileResponse(
        storage.open(name, "rb"), content_type=CONTENT_TYPES.get(extension, "application/octet-stream")
    )
    response["Cache-Control"] = cache
    return response


def attachment(*, handle, filename: str):
    """A download: always streamed through the app so the file name is ours."""
    extension = filename.rsplit(".", 1)[-1]
    return FileResponse(
        handle,
        as_attachment=True,
        filename=filename,
        content_type=CONTENT_TYPES.get(extension, "application/octet-stream"),
    )
