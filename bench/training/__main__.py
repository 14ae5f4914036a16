"""``python -m bench.training``: the local trainer on 20 images at 512², as a worker runs it.

It runs what ``training.providers.local`` runs for one job (decoding the dataset, fitting the
style adapter with the same rhythm of loss evaluations, samples at two fixed seeds and
checkpoints) in this process, and prints: wall time, steps per second, the loss at the start
and the end, the colour-statistics distance of fresh renders to the dataset without and with the
adapter (mean and standard deviation per channel), and the peak RSS of the process.
The images are sepia gradients with grain, a look far from the renderer's own colours.
"""

import argparse
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from generation.providers.local_renderer import render, style_adapter  # noqa: E402
from training.trainer import Trainer  # noqa: E402

PROMPTS = ("a kite over a green hill", "a purple castle in the clouds", "a blue whale", "a red barn", "a city at night")


def dataset(count: int, size: int) -> list[Image.Image]:
    rng = np.random.default_rng(0)
    images = []
    for _ in range(count):
        y = np.linspace(0, 1, size)[:, None]
        tone = 0.35 + 0.3 * y + 0.15 * rng.random() + np.zeros((size, size))
        pixels = np.stack([tone, tone * 0.8, tone * 0.55], axis=-1) + rng.normal(0, 0.06, (size, size, 1))
        images.append(Image.fromarray(np.uint8(np.clip(pixels, 0, 1) * 255)))
    return images


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--steps", type=int, default=300, help="the local provider's default")
    parser.add_argument("--learning-rate", type=float, default=0.02)
    args = parser.parse_args()
    images = dataset(args.images, args.size)

    began = time.perf_counter()
    trainer = Trainer(images=images, seed=7, learning_rate=args.learning_rate, total_steps=args.steps)
    first = trainer.loss()
    log_every, sample_every, checkpoint_every = max(1, args.steps // 20), max(1, args.steps // 4), 50
    curve = [(0, first)]
    while trainer.step_count < args.steps:
        trainer.step()
        step = trainer.step_count
        if step % log_every == 0 or step == args.steps:
            curve.append((step, trainer.loss()))
        if step % sample_every == 0 or step == args.steps:
            for seed in (1, 2):
                style_adapter.png_bytes(trainer.sample(prompt="sample", seed=seed))
        if step % checkpoint_every == 0:
            trainer.state()
    style_adapter.dumps(trainer.params)
    wall = time.perf_counter() - began

    target = np.mean([style_adapter.colour_statistics(image) for image in images], axis=0)
    before, after = [], []
    for prompt in PROMPTS:
        plain = render(prompt=prompt, seed=11, width=512, height=512)
        before.append(np.linalg.norm(style_adapter.colour_statistics(plain) - target))
        after.append(
            np.linalg.norm(style_adapter.colour_statistics(style_adapter.apply(plain, trainer.params)) - target)
        )
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"local trainer: {args.images} images at {args.size}², {args.steps} steps")
    print(f"  wall time        {wall:.2f} s  ({args.steps / wall:.0f} steps/s)")
    print(f"  loss             {first:.5f} → {curve[-1][1]:.6f}  ({first / curve[-1][1]:.0f}× lower)")
    print("  loss curve       " + ", ".join(f"{step}:{loss:.5f}" for step, loss in curve[:: max(1, len(curve) // 6)]))
    near, far = np.mean(after), np.mean(before)
    print(f"  colour distance  {far:.3f} → {near:.3f}  ({far / near:.1f}× closer)")
    print(f"  peak RSS         {rss_mb:.0f} MB")


if __name__ == "__main__":
    main()
