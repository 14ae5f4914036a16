"""The local provider's image-to-video: a slow pan and zoom over the input (the "Ken Burns"
effect), encoded as H.264 MP4 by the ffmpeg that imageio-ffmpeg ships.

Procedural, not AI. The direction of the move and whether it zooms in or out come from the
seed, so the same input and seed give the same frames.
"""

import os
import random
import tempfile

from PIL import Image

DEFAULT_FRAMES = 48
DEFAULT_FPS = 16
# How far the camera zooms over the clip, as a ratio of the frame.
_ZOOM = 1.25


def _ease(t: float) -> float:
    return t * t * (3.0 - 2.0 * t)


def frames(source: Image.Image, *, seed: int, num_frames: int, width: int, height: int):
    """Yields ``num_frames`` RGB frames of ``width``×``height`` moving across ``source``."""
    rng = random.Random(f"local-video-v1:{seed}")
    zoom_in = rng.random() < 0.5
    start = (rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.7))
    end = (rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.7))
    image = source.convert("RGB")
    for index in range(num_frames):
        t = _ease(index / max(1, num_frames - 1))
        zoom = 1.0 + (_ZOOM - 1.0) * (t if zoom_in else 1.0 - t)
        box_w, box_h = image.width / zoom, image.height / zoom
        cx = (start[0] + (end[0] - start[0]) * t) * image.width
        cy = (start[1] + (end[1] - start[1]) * t) * image.height
        left = min(max(0.0, cx - box_w / 2), image.width - box_w)
        top = min(max(0.0, cy - box_h / 2), image.height - box_h)
        yield image.resize((width, height), Image.Resampling.BICUBIC, box=(left, top, left + box_w, top + box_h))


def encode_mp4(source: Image.Image, *, seed: int, num_frames: int, fps: int) -> tuple[bytes, int, int]:
    """The clip as MP4 bytes, and its width and height (even, as 4:2:0 H.264 needs)."""
    import imageio_ffmpeg

    width, height = source.width - source.width % 2, source.height - source.height % 2
    handle, path = tempfile.mkstemp(suffix=".mp4")
    os.close(handle)
    try:
        writer = imageio_ffmpeg.write_frames(
            path,
            (width, height),
            fps=fps,
            codec="libx264",
            macro_block_size=1,
            ffmpeg_log_level="error",
            # The index at the front lets a browser start playing before the whole file arrives.
            output_params=["-movflags", "+faststart"],
        )
        writer.send(None)
        for frame in frames(source, seed=seed, num_frames=num_frames, width=width, height=height):
            writer.send(frame.tobytes())
        writer.close()
        with open(path, "rb") as clip:
            return clip.read(), width, height
    finally:
        os.unlink(path)
