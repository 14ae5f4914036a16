"""``python -m bench.thumbnails``: Atelier's thumbnail of a 1024² PNG against bare Pillow.

Both read the same PNG from disk and write a WebP of the same long side and quality, in the
same process, alternating, so the machine's noise hits both alike. The ratio is Atelier's p50
over the baseline's (goal ≤ 1.2). The image is photographic-like noise over gradients, so the
encoder has real work to do.
"""

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image, ImageFilter  # noqa: E402

from gallery.imaging import thumbnail_from_image  # noqa: E402


def sample_png(path: str, side: int = 1024) -> None:
    gradient = Image.linear_gradient("L").resize((side, side))
    noise = Image.effect_noise((side, side), 64).filter(ImageFilter.GaussianBlur(1.5))
    image = Image.merge("RGB", (gradient, noise, gradient.rotate(90)))
    image.save(path, "PNG")


def bare_pillow(path: str, *, size: int, quality: int) -> bytes:
    with Image.open(path) as image:
        image.thumbnail((size, size))
        out = io.BytesIO()
        image.save(out, "WEBP", quality=quality)
    return out.getvalue()


def atelier(path: str, *, size: int, quality: int) -> bytes:
    with open(path, "rb") as source:
        return thumbnail_from_image(source, size=size, quality=quality)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--size", type=int, default=384)
    parser.add_argument("--quality", type=int, default=80)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "sample.png")
        sample_png(path)
        times = {"bare Pillow": [], "Atelier": []}
        functions = {"bare Pillow": bare_pillow, "Atelier": atelier}
        for name, fn in functions.items():
            thumb = Image.open(io.BytesIO(fn(path, size=args.size, quality=args.quality)))
            assert thumb.format == "WEBP" and max(thumb.size) == args.size, (name, thumb.size)
        for _ in range(args.runs):
            for name, fn in functions.items():
                started = time.perf_counter()
                fn(path, size=args.size, quality=args.quality)
                times[name].append((time.perf_counter() - started) * 1000)
    p50 = {name: statistics.median(values) for name, values in times.items()}
    print(f"1024x1024 PNG -> {args.size}px WebP q{args.quality}, p50 of {args.runs} runs")
    for name, value in p50.items():
        print(f"  {name:<12} {value:7.2f} ms")
    print(f"Atelier/bare Pillow: {p50['Atelier'] / p50['bare Pillow']:.2f} (goal ≤ 1.2)")


if __name__ == "__main__":
    main()
