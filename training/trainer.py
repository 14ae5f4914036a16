"""The ``local`` trainer: fits a style adapter for the procedural renderer by gradient descent.

What it learns is the transform in ``generation.providers.local_renderer.style_adapter`` (a
colour matrix and bias, three tone curves and a detail gain), not diffusion weights. The
source is the renderer's own output over a fixed set of reference prompts; the target is the
user's images. The loss is a sliced Wasserstein distance between the two colour distributions
(the three channel axes plus random directions in RGB, matched quantile by quantile) plus the
squared log-ratio of their fine-detail energy that the bounded detail gain cannot close. Adam
updates the colour parameters from analytic gradients, with a cosine-decayed learning rate; the
detail gain follows each step in closed form. Every step is deterministic from the job's seed
and the step number, so a run resumed from a checkpoint continues exactly where it stopped.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from generation.providers.local_renderer import render
from generation.providers.local_renderer import style_adapter as adapter

# Renderer prompts that span its palettes, the source distribution the adapter maps from.
REFERENCE_PROMPTS = (
    "a lighthouse at sunset",
    "a forest in spring",
    "the ocean at night",
    "a desert under a golden sun",
    "a snowy mountain",
    "a neon city",
    "a field of red flowers",
    "a calm lake at dawn",
)
WORK_SIZE = 64
BATCH = 4096
RANDOM_DIRECTIONS = 8
TEXTURE_WEIGHT = 0.05
# Steps between refits of the detail gain (a closed form, but it renders the references).
DETAIL_EVERY = 5
# A light first moment: the colour loss is re-sampled each step, and heavier momentum overshoots.
ADAM_BETAS = (0.5, 0.999)


def image_pixels(image: Image.Image, *, size: int = WORK_SIZE) -> np.ndarray:
    """An image as a (size, size, 3) array in [0, 1], center-cropped to a square."""
    image = image.convert("RGB")
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    image = image.crop((left, top, left + side, top + side)).resize((size, size), Image.Resampling.BILINEAR)
    return np.asarray(image, dtype=np.float64) / 255.0


def detail_energy(images: np.ndarray) -> float:
    """Standard deviation of the luminance left after a small blur: how much fine texture there is."""
    luma = images @ np.array([0.299, 0.587, 0.114])
    padded = np.pad(luma, ((0, 0), (1, 1), (1, 1)), mode="edge")
    blur = sum(padded[:, dy : dy + luma.shape[1], dx : dx + luma.shape[2]] for dy in range(3) for dx in range(3)) / 9
    return float(np.std(luma - blur)) + 1e-6


def reference_images() -> np.ndarray:
    return np.stack(
        [
            image_pixels(render(prompt=prompt, seed=seed, width=WORK_SIZE, height=WORK_SIZE))
            for prompt in REFERENCE_PROMPTS
            for seed in (1, 2)
        ]
    )


class Trainer:
    """One training run; ``state()`` and ``Trainer(..., state=…)`` are its checkpoints."""

    def __init__(
        self,
        *,
        images: list[Image.Image],
        seed: int,
        learning_rate: float,
        total_steps: int | None = None,
        state: bytes | None = None,
    ):
        self.seed = int(seed)
        self.learning_rate = float(learning_rate)
        self.total_steps = total_steps
        target = np.stack([image_pixels(image) for image in images])
        self.source_images = reference_images()
        self.source = self.source_images.reshape(-1, 3)
        self.target = target.reshape(-1, 3)
        self.target_detail = detail_energy(target)
        rng = np.random.default_rng([self.seed, 0])
        directions = rng.normal(size=(RANDOM_DIRECTIONS, 3))
        self.eval_directions = np.vstack([np.eye(3), directions / np.linalg.norm(directions, axis=1, keepdims=True)])
        self.eval_source = self.source[rng.choice(len(self.source), size=min(8192, len(self.source)), replace=False)]
        self.eval_target = self.target[rng.choice(len(self.target), size=min(8192, len(self.target)), replace=False)]
        self.params = adapter.identity_params()
        self.moments = {name: (np.zeros_like(v), np.zeros_like(v)) for name, v in self.params.items()}
        self.step_count = 0
        if state is not None:
            self._restore(state)

    def _directions(self, rng) -> np.ndarray:
        random = rng.normal(size=(RANDOM_DIRECTIONS, 3))
        return np.vstack([np.eye(3), random / np.linalg.norm(random, axis=1, keepdims=True)])

    def _colour_loss(self, source, target, directions, params, *, want_grad: bool):
        """Sliced Wasserstein-2 between the adapted source pixels and the target pixels."""
        mixed_raw = source @ params["color_matrix"].T + params["color_bias"]
        mixed = np.clip(mixed_raw, 0.0, 1.0)
        out = adapter.curve_apply(mixed, params["tone_curve"])
        n, d = len(out), len(directions)
        projected = out @ directions.T
        wanted = np.sort(target @ directions.T, axis=0)
        if len(wanted) != n:
            wanted = np.quantile(wanted, (np.arange(n) + 0.5) / n, axis=0)
        order = np.argsort(projected, axis=0)
        matched = np.empty_like(projected)
        np.put_along_axis(matched, order, wanted, axis=0)
        residual = projected - matched
        loss = float(np.mean(residual**2))
        if not want_grad:
            return loss, None
        grad_out = (2.0 / (n * d)) * residual @ directions
        return loss, self._backward(source, mixed_raw, mixed, grad_out, params)

    def _backward(self, source, mixed_raw, mixed, grad_out, params) -> dict[str, np.ndarray]:
        curve = params["tone_curve"]
        segments = curve.shape[1] - 1
        position = mixed * segments
        index = np.minimum(position.astype(int), segments - 1)
        t = position - index
        grad_curve = np.zeros_like(curve)
        grad_mixed = np.empty_like(mixed)
        for c in range(3):
            np.add.at(grad_curve[c], index[:, c], grad_out[:, c] * (1.0 - t[:, c]))
            np.add.at(grad_curve[c], index[:, c] + 1, grad_out[:, c] * t[:, c])
            slope = (curve[c, index[:, c] + 1] - curve[c, index[:, c]]) * segments
            grad_mixed[:, c] = grad_out[:, c] * slope
        grad_mixed[(mixed_raw <= 0.0) | (mixed_raw >= 1.0)] = 0.0
        return {
            "color_matrix": grad_mixed.T @ source,
            "color_bias": grad_mixed.sum(axis=0),
            "tone_curve": grad_curve,
        }

    def _fit_detail_gain(self) -> None:
        # The gain that gives the adapted references the dataset's detail energy, within 0.25x..4x.
        # It has a closed form given the colour part, so it follows each colour step exactly
        # instead of chasing it by gradient (which oscillates when the colour part moves).
        adapted = adapter.colour_apply(self.source_images, self.params)
        wanted = np.log(self.target_detail) - np.log(detail_energy(adapted))
        self.params["log_detail_gain"] = np.clip(np.array([wanted]), -1.4, 1.4)

    def _texture_loss(self, params) -> float:
        """What the detail gain cannot reach inside its bounds: the squared log-ratio left over."""
        adapted = adapter.colour_apply(self.source_images, params)
        gain = float(params["log_detail_gain"][0])
        return float(gain + np.log(detail_energy(adapted)) - np.log(self.target_detail)) ** 2

    def step(self) -> float:
        """One Adam step on a fresh batch; returns the batch's colour loss."""
        self.step_count += 1
        rng = np.random.default_rng([self.seed, self.step_count])
        source = self.source[rng.integers(0, len(self.source), size=BATCH)]
        target = self.target[rng.integers(0, len(self.target), size=BATCH)]
        loss, grads = self._colour_loss(source, target, self._directions(rng), self.params, want_grad=True)
        self._adam(grads)
        if self.step_count % DETAIL_EVERY == 1 or self.step_count == self.total_steps:
            self._fit_detail_gain()
        return loss

    def _rate(self) -> float:
        """The learning rate of this step: cosine decay to a tenth over the run, when its length is known."""
        if not self.total_steps:
            return self.learning_rate
        progress = min(1.0, self.step_count / self.total_steps)
        return self.learning_rate * (0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * progress)))

    def _adam(self, grads: dict[str, np.ndarray]) -> None:
        beta1, beta2 = ADAM_BETAS
        rate = self._rate()
        for name, grad in grads.items():
            m, v = self.moments[name]
            m[...] = beta1 * m + (1 - beta1) * grad
            v[...] = beta2 * v + (1 - beta2) * grad**2
            m_hat = m / (1 - beta1**self.step_count)
            v_hat = v / (1 - beta2**self.step_count)
            self.params[name] = self.params[name] - rate * m_hat / (np.sqrt(v_hat) + 1e-8)
        # Tone curves stay monotone and inside [0, 1].
        self.params["tone_curve"] = np.maximum.accumulate(np.clip(self.params["tone_curve"], 0.0, 1.0), axis=1)

    def loss(self) -> float:
        """The loss on fixed pixels and directions, comparable from step to step."""
        colour, _ = self._colour_loss(
            self.eval_source, self.eval_target, self.eval_directions, self.params, want_grad=False
        )
        return colour + TEXTURE_WEIGHT * self._texture_loss(self.params)

    def state(self) -> bytes:
        arrays = {f"param.{k}": v for k, v in self.params.items()}
        for name, (m, v) in self.moments.items():
            arrays[f"m.{name}"], arrays[f"v.{name}"] = m, v
        arrays["step"] = np.array([self.step_count])
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        return buffer.getvalue()

    def _restore(self, state: bytes) -> None:
        with np.load(io.BytesIO(state), allow_pickle=False) as data:
            for name in self.params:
                self.params[name] = data[f"param.{name}"].copy()
                self.moments[name] = (data[f"m.{name}"].copy(), data[f"v.{name}"].copy())
            self.step_count = int(data["step"][0])

    def sample(self, *, prompt: str, seed: int, size: int = 256) -> Image.Image:
        """What the renderer draws for ``prompt`` with the adapter as it stands now."""
        return adapter.apply(render(prompt=prompt, seed=seed, width=size, height=size), self.params)
