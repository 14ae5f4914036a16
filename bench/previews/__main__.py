"""In-progress pictures: how fast a provider's frame reaches its watchers, and what painting
with previews costs the local renderer.

    .venv/bin/python -m bench.previews [--scenario delivery,cost] [--watchers 100] [--rate 50]
                                       [--seconds 8] [--rounds 15] [--size 1024]

``delivery``: one ASGI web process (``gunicorn config.asgi -k uvicorn_worker.UvicornWorker
-w 1``), N running jobs and one watcher on each job's live stream (``GET
/api/generate/{id}/events``, N asyncio clients in a thread of the bench process). The bench
plays the provider: it reports frames through each job's reporter (``generation_reporter(id)
.preview(image, step=…)``, a 512×512 canvas as the local renderer hands it), ``--rate`` frames a
second over the jobs in turn, for ``--seconds``. The reporter scales, encodes, caches and
publishes each through Redis, as a worker does. A frame's time runs from the moment the provider
hands it to the reporter to the moment its ``preview`` event arrives at its watcher (both on this
machine's monotonic clock); p50/p99 over the delivered frames, and how many were delivered.

``cost``: in this process, the local provider's submit of one ``--size``² text-to-image job
(render, PNG encode, its progress and log written through the reporter) with previews off and on,
alternated for ``--rounds`` rounds, each run on a job of its own (the pacing of previews is per
job). "on" is the default pacing (one frame per ATELIER_PREVIEW_MIN_INTERVAL_MS, 500 ms): the
first layer is published, the rest dropped unencoded; "every layer" paces nothing (interval 0),
the worst case. Medians of the wall time and of the calling thread's CPU time, and their ratios
to "off" (goal: on ≤ 1.1 × off, judged on CPU time, which the load of other processes on a shared
machine moves far less than the wall time).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

# Its own database and Redis index, so that it runs beside the other benchmarks.
os.environ.setdefault("BENCH_DB_NAME", "atelier_p_bench")
os.environ.setdefault("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")

from bench import harness  # noqa: E402

CONNECT_BATCH = 50


class Watchers(harness.StreamReaders):
    """One event stream per job, read by one asyncio loop in a thread of the bench process;
    the moment each ``preview`` event arrives, by (job, index)."""

    def __init__(self, port: int, key: str, jobs: list[str]):
        super().__init__(port, key)
        self.jobs = jobs
        self.received: dict[tuple[str, int], float] = {}
        self.ready: set[str] = set()

    def connect_all(self, timeout: float = 30.0) -> None:
        for start in range(0, len(self.jobs), CONNECT_BATCH):
            batch = self.jobs[start : start + CONNECT_BATCH]
            for generation_id in batch:
                asyncio.run_coroutine_threadsafe(self._spawn(generation_id), self.loop).result(10)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and len(self.ready) + self.failed < start + len(batch):
                time.sleep(0.01)

    async def _spawn(self, generation_id: str) -> None:
        self.tasks.append(asyncio.ensure_future(self._watch(generation_id)))

    async def _watch(self, generation_id: str) -> None:
        try:
            path = f"/api/generate/{generation_id}/events"
            reader, writer, chunked = await harness.event_stream_open(self.port, path, self.key, limit=1 << 22)
            buffer = b""
            async for data in harness.event_stream_data(reader, chunked, size=1 << 20):
                arrived = time.monotonic()
                self.ready.add(generation_id)
                buffer += data
                while b"\n\n" in buffer:
                    block, buffer = buffer.split(b"\n\n", 1)
                    if not block.startswith(b"event: preview\n"):
                        continue
                    for line in block.split(b"\n"):
                        if line.startswith(b"data: "):
                            self.received[(generation_id, json.loads(line[6:])["index"])] = arrived
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - counted and reported
            self.failure(exc)


def _jobs(count: int) -> list[str]:
    from accounts.models import User
    from generation.models import Generation, Status

    user = User.objects.get(email=harness.BENCH_EMAIL)
    created = Generation.objects.bulk_create(
        Generation(
            user=user, model_id="local/procedural", provider="local", status=Status.PROCESSING, width=512, height=512
        )
        for _ in range(count)
    )
    return [str(g.pk) for g in created]


def _canvases(count: int) -> list:
    """Layers of a real painting (the local renderer's canvas, 512×512), to report in turn."""
    from generation.providers import local_renderer

    frames = []
    seed = 0
    while len(frames) < count:
        local_renderer.render(
            prompt="a lighthouse on a cliff at sunset",
            seed=seed,
            width=512,
            height=512,
            frame=lambda image, step: frames.append(image.copy()),
        )
        seed += 1
    return frames[:count]


def _report_frames(jobs: list[str], *, rate: float, seconds: float) -> dict[tuple[str, int], float]:
    """Frames reported through each job's reporter, ``rate`` a second over the jobs in turn;
    the moment each was handed over."""
    from generation.services.running import generation_reporter

    reporters = {generation_id: generation_reporter(generation_id) for generation_id in jobs}
    canvases = _canvases(16)
    handed: dict[tuple[str, int], float] = {}
    count = int(rate * seconds)
    start = time.monotonic()
    for index in range(count):
        generation_id = jobs[index % len(jobs)]
        frame = index // len(jobs)
        at = time.monotonic()
        reporters[generation_id].preview(canvases[index % len(canvases)], step=frame + 1, total_steps=count)
        handed[(generation_id, frame)] = at
        pause = start + (index + 1) / rate - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    return handed


def delivery(env: dict, key: str, options) -> dict:
    port = harness.free_port()
    args = [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}", "--log-level", "warning"]
    args += ["config.asgi", "-k", "uvicorn_worker.UvicornWorker"]
    web_env = {**env, "DB_CONN_MAX_AGE": "0"}
    jobs = _jobs(options.watchers)
    per_job = options.rate * options.seconds / len(jobs)
    if options.seconds / max(per_job, 1) < 0.5:
        print("    note: frames come faster than the pacing lets through; some are dropped", file=sys.stderr)
    with harness.running(("web-asgi", args, web_env)) as (web,):
        harness.wait_http(web, port, "/bench/bare", key)
        watchers = Watchers(port, key, jobs)
        try:
            began = time.monotonic()
            watchers.connect_all()
            connect_seconds = time.monotonic() - began
            handed = _report_frames(jobs, rate=options.rate, seconds=options.seconds)
            latencies = harness.delivery_latencies_ms(handed, watchers.received, drain_seconds=options.drain_seconds)
            return {
                "watchers": len(jobs),
                "streaming": len(watchers.ready),
                "failed": watchers.failed,
                "connect_s": connect_seconds,
                "sent": len(handed),
                "delivered": len(latencies),
                "p50": harness.percentile(latencies, 50),
                "p99": harness.percentile(latencies, 99),
                "max": max(latencies) if latencies else float("nan"),
            }
        finally:
            watchers.close()


def cost(options) -> dict:
    """The local provider's submit with previews off, on (paced) and on every layer, alternated."""
    import dataclasses

    from django.conf import settings

    from generation.models import Generation
    from generation.providers import ProviderJob
    from generation.providers.local import LocalProvider
    from generation.services.running import generation_reporter

    provider = LocalProvider()
    provider.warm()  # as a worker does before its first job
    base = ProviderJob(
        generation_id="",
        model_id="local/procedural",
        upstream_model="procedural",
        kind="text-to-image",
        prompt="a lighthouse on a cliff at sunset, warm light",
        negative_prompt="",
        width=options.size,
        height=options.size,
        num_images=1,
        seed=1234,
        output_format="png",
    )
    interval = settings.ATELIER_PREVIEW_MIN_INTERVAL_MS
    modes = {"off": (False, interval), "on": (True, interval), "every layer": (True, 0)}
    jobs = iter(_jobs(len(modes) * (options.rounds + 2)))
    timings: dict[str, list[float]] = {mode: [] for mode in modes}
    cpu: dict[str, list[float]] = {mode: [] for mode in modes}
    outputs: dict[str, bytes] = {}
    for round_ in range(options.rounds + 2):
        order = list(modes) if round_ % 2 else list(reversed(modes))
        for mode in order:
            previews, pacing = modes[mode]
            settings.ATELIER_PREVIEW_MIN_INTERVAL_MS = pacing
            generation_id = next(jobs)
            job = dataclasses.replace(base, generation_id=generation_id, previews=previews)
            # As a worker's run builds it: with the claimed row, so its previews need no query.
            reporter = generation_reporter(generation_id, generation=Generation.objects.get(pk=generation_id))
            began, began_cpu = time.perf_counter(), time.thread_time()
            submission = provider.submit(job, reporter=reporter)
            elapsed = (time.perf_counter() - began) * 1000
            if round_ >= 2:  # two warm-up rounds
                timings[mode].append(elapsed)
                cpu[mode].append((time.thread_time() - began_cpu) * 1000)
            outputs[mode] = submission.outputs[0].data
    settings.ATELIER_PREVIEW_MIN_INTERVAL_MS = interval
    return {
        "medians": {mode: statistics.median(values) for mode, values in timings.items()},
        "cpu": {mode: statistics.median(values) for mode, values in cpu.items()},
        "same_output": len(set(outputs.values())) == 1,
        "rounds": options.rounds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default="delivery,cost")
    parser.add_argument("--watchers", type=int, default=100, help="running jobs, one watcher each")
    parser.add_argument("--rate", type=float, default=50.0, help="frames a second, over all jobs")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--drain-seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=15, help="cost: rounds of off / on / every layer")
    parser.add_argument("--size", type=int, default=1024, help="cost: the square render's side")
    options = parser.parse_args()
    scenarios = options.scenario.split(",")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4 * options.watchers + 256)), hard))

    print(harness.machine_line())
    with harness.bench_environment() as (env, key):
        if "delivery" in scenarios:
            r = delivery(env, key, options)
            print(
                f"\ndelivery: {r['watchers']} watchers on one ASGI process ({r['streaming']} streaming, "
                f"{r['failed']} failed, connected in {r['connect_s']:.1f} s), {options.rate:g} frames/s "
                f"for {options.seconds:g} s"
            )
            print("| watchers | frames delivered | p50 ms | p99 ms | max ms |")
            print("| ---: | ---: | ---: | ---: | ---: |")
            print(
                f"| {r['watchers']} | {r['delivered']}/{r['sent']} | {r['p50']:.1f} | {r['p99']:.1f} | {r['max']:.1f} |"
            )
            goal = r["p99"] <= 100 and r["delivered"] == r["sent"]
            print(f"goal (p99 <= 100 ms, every frame delivered): {'met' if goal else 'MISSED'}", flush=True)
        if "cost" in scenarios:
            r = cost(options)
            m, c = r["medians"], r["cpu"]
            print(f"\ncost: local {options.size}² text-to-image submit, median of {r['rounds']} alternated rounds")
            print("| previews | wall ms | ratio to off | CPU ms (this thread) | CPU ratio to off |")
            print("| --- | ---: | ---: | ---: | ---: |")
            for mode, value in m.items():
                print(f"| {mode} | {value:.1f} | {value / m['off']:.3f} | {c[mode]:.1f} | {c[mode] / c['off']:.3f} |")
            print(f"same output with and without previews: {'yes' if r['same_output'] else 'NO'}")
            # On CPU time, which other processes' load on the machine does not move (wall time beside it).
            goal = c["on"] / c["off"] <= 1.1 and r["same_output"]
            print(f"goal (on <= 1.1 x off in CPU time, same output): {'met' if goal else 'MISSED'}")


if __name__ == "__main__":
    main()
