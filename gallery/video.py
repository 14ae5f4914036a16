"""Reading what a video file is: its frame size and duration, from the container via ffmpeg."""

import os
import tempfile
from dataclasses import dataclass


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    duration: float | None
    fps: float | None


class NotAVideo(ValueError):
    pass


def video_probe(data: bytes, *, suffix: str = ".mp4") -> VideoInfo:
    """The video's size and duration; ``NotAVideo`` when ffmpeg cannot read it as one."""
    import imageio_ffmpeg

    handle, path = tempfile.mkstemp(suffix=suffix)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        frames = imageio_ffmpeg.read_frames(path)
        try:
            meta = next(frames)
        except (OSError, RuntimeError, StopIteration) as exc:
            raise NotAVideo(str(exc)) from exc
        finally:
            frames.close()
    finally:
        os.unlink(path)
    width, height = meta.get("size") or (0, 0)
    if not width or not height:
        raise NotAVideo("no video stream")
    duration = meta.get("duration")
    return VideoInfo(width=width, height=height, duration=float(duration) if duration else None, fps=meta.get("fps"))
