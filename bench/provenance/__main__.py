"""``python -m bench.provenance``: what provenance costs per 1024² image, in one process.

For each output format, every run renders one 1024² picture with the local renderer (timed once,
shared by the variants) and then, alternating so that the machine's noise hits all alike:

- plain: encode, as the local provider hands its output over;
- metadata: encode + gallery.provenance's metadata embedding (what ``asset_create`` does without
  a signer);
- signed: encode + metadata + C2PA signing with a test signer (EC P-256, es256: what
  ``asset_create`` does with one);
- edited: the same, with a 1024² PNG input image as the parent ingredient (image-to-image).

Each figure is render + that variant's own work (p50), as wall time and as this process's CPU
time (which other load on the machine does not inflate; the ratio is taken on both). Goal:
signed/plain ≤ 1.25. Then reading:
``content_credentials_read`` of a signed file (the manifest, its validation against the test
root), p50; goal ≤ 20 ms. ``--runs`` sets the number of runs (default 20).
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from gallery.provenance import (  # noqa: E402
    content_credentials_read,
    content_credentials_sign,
    metadata_embed,
    metadata_read,
)
from gallery.provenance.local_signer import local_signer_write  # noqa: E402
from generation.providers import local_renderer  # noqa: E402

SIDE = 1024
PROMPT = "a lighthouse on a cliff at sunset, warm light, waves"
GOAL_SIGNED = 1.25
GOAL_READ_MS = 20.0


def metadata_for(seed: int) -> dict:
    return {
        "generator": "Atelier",
        "version": settings.ATELIER_VERSION,
        "generation_id": f"00000000-0000-0000-0000-{seed:012d}",
        "prompt": PROMPT,
        "negative_prompt": "blurry",
        "model": "local/procedural",
        "provider": "local",
        "seed": seed,
        "width": SIDE,
        "height": SIDE,
        "steps": 30,
        "guidance": 7.5,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--formats", default="png,jpeg,webp")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        signer = local_signer_write(Path(folder))
        settings.ATELIER_C2PA_CERT, settings.ATELIER_C2PA_KEY = str(signer.cert), str(signer.key)
        settings.ATELIER_C2PA_TRUST_ANCHORS = str(signer.root)
        ingredient = local_renderer.encode(
            local_renderer.render(prompt="an input picture", seed=999, width=SIDE, height=SIDE, negative_prompt=""),
            fmt="png",
        )
        for fmt in args.formats.split(","):
            run_format(fmt, args.runs, ingredient)


def run_format(fmt: str, runs: int, ingredient: bytes) -> None:
    variants = {
        "plain": lambda image, meta: local_renderer.encode(image, fmt=fmt),
        "metadata": lambda image, meta: metadata_embed(local_renderer.encode(image, fmt=fmt), fmt, meta),
        "signed": lambda image, meta: content_credentials_sign(
            metadata_embed(local_renderer.encode(image, fmt=fmt), fmt, meta), fmt, metadata=meta
        ),
        "edited": lambda image, meta: content_credentials_sign(
            metadata_embed(local_renderer.encode(image, fmt=fmt), fmt, meta), fmt, metadata=meta, ingredient=ingredient
        ),
    }
    times = {name: [] for name in variants}
    cpu = {name: [] for name in variants}
    render_times, render_cpu, read_times, metadata_read_times = [], [], [], []
    signed = b""
    for seed in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        image = local_renderer.render(prompt=PROMPT, seed=seed, width=SIDE, height=SIDE, negative_prompt="")
        render_times.append(time.perf_counter() - started)
        render_cpu.append(time.process_time() - started_cpu)
        meta = metadata_for(seed)
        order = list(variants.items())
        if seed % 2:
            order.reverse()
        for name, work in order:
            started, started_cpu = time.perf_counter(), time.process_time()
            data = work(image, meta)
            times[name].append(time.perf_counter() - started)
            cpu[name].append(time.process_time() - started_cpu)
            if name == "signed":
                signed = data
        started = time.perf_counter()
        found = content_credentials_read(signed)
        read_times.append(time.perf_counter() - started)
        assert found["state"] == "valid", found
        started = time.perf_counter()
        assert metadata_read(signed)["atelier"]["seed"] == seed
        metadata_read_times.append(time.perf_counter() - started)

    render = statistics.median(render_times) * 1000
    render_c = statistics.median(render_cpu) * 1000
    p50 = {name: render + statistics.median(values) * 1000 for name, values in times.items()}
    c50 = {name: render_c + statistics.median(values) * 1000 for name, values in cpu.items()}
    read = statistics.median(read_times) * 1000
    print(
        f"{SIDE}x{SIDE} {fmt.upper()}, p50 of {runs} runs (render {render:.1f} ms wall, {render_c:.1f} ms CPU, shared)"
    )
    print("  render+encode            wall ms   ratio     CPU ms   ratio")
    for name in variants:
        print(
            f"    {name:<20} {p50[name]:8.1f}   {p50[name] / p50['plain']:.3f}   {c50[name]:8.1f}   "
            f"{c50[name] / c50['plain']:.3f}"
        )
    ratio = max(p50["signed"] / p50["plain"], c50["signed"] / c50["plain"])
    print(
        f"  signed/plain {ratio:.3f} (the higher of both; goal <= {GOAL_SIGNED}: "
        f"{'met' if ratio <= GOAL_SIGNED else 'MISSED'})"
    )
    print(
        f"  read manifest + validate {read:.2f} ms (goal <= {GOAL_READ_MS:g} ms: "
        f"{'met' if read <= GOAL_READ_MS else 'MISSED'}); Atelier metadata read "
        f"{statistics.median(metadata_read_times) * 1000:.2f} ms; file {len(signed) / 1024:.0f} KiB"
    )


if __name__ == "__main__":
    main()
