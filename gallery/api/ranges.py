"""Byte-range answers (RFC 9110 §14) for stored files, so a browser can play and seek a video.

One range per request, which is what media elements ask for; anything else (several ranges,
another unit, a malformed header, an If-Range we do not validate) gets the whole file, as the
RFC allows. S3 files are answered by a redirect to a pre-signed URL, and S3 serves ranges itself.
"""

import re

from django.http import FileResponse, HttpResponse, StreamingHttpResponse

from gallery.api.delivery import serve_file, storage_is_s3
from gallery.models import CONTENT_TYPES

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK_SIZE = 64 * 1024


def _span(header: str, size: int) -> tuple[int, int] | None | bool:
    """(first, last) byte asked for; None for the whole file; False when it cannot be satisfied."""
    match = _RANGE.match(header.strip())
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":
        length = int(last)
        if length == 0 or size == 0:
            return False
        return max(0, size - length), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        return False
    return start, end


def _chunks(handle, *, start: int, length: int):
    try:
        handle.seek(start)
        remaining = length
        while remaining > 0:
            chunk = handle.read(min(CHUNK_SIZE, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
    finally:
        handle.close()


def serve_file_ranged(request, *, storage, name: str, cache: str):
    """The file, or the one byte range the request asks for (206), or 416 when out of bounds."""
    if storage_is_s3(storage):
        return serve_file(storage=storage, name=name, cache=cache)
    content_type = CONTENT_TYPES.get(name.rsplit(".", 1)[-1].lower(), "application/octet-stream")
    size = storage.size(name)
    header = request.headers.get("Range", "")
    span = _span(header, size) if header and not request.headers.get("If-Range") else None
    if span is False:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
    elif span is None:
        response = FileResponse(storage.open(name, "rb"), content_type=content_type)
    else:
        start, end = span
        response = StreamingHttpResponse(
            _chunks(storage.open(name, "rb"), start=start, length=end - start + 1),
            status=206,
            content_type=content_type,
        )
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(end - start + 1)
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = cache
    return response
